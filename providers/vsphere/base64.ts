/**
 * Base64 of bytes and of UTF-8 text, as extraConfig values carry them (the pod record,
 * guestinfo `*.encoding: base64`).
 *
 * @module
 */

/** Base64 of `bytes`. */
export function base64Bytes(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Base64 of UTF-8 text, as guestinfo `*.encoding: base64` expects. */
export function base64Text(text: string): string {
  return base64Bytes(new TextEncoder().encode(text));
}
