/**
 * Minimal ASN.1 DER writer and reader, just enough to build and inspect X.509 certificates.
 * Private to `lib/kubelet_api`.
 *
 * @module
 */

/** Bytes backed by a plain `ArrayBuffer`, as WebCrypto wants them. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Bytes {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function lengthBytes(length: number): Bytes {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one TLV with the given tag byte. */
export function tlv(tag: number, content: Uint8Array): Bytes {
  return concat(Uint8Array.of(tag), lengthBytes(content.length), content);
}

/** SEQUENCE of already encoded elements. */
export function sequence(...elements: Uint8Array[]): Bytes {
  return tlv(0x30, concat(...elements));
}

/** SET of already encoded elements (callers pass them in DER order). */
export function set(...elements: Uint8Array[]): Bytes {
  return tlv(0x31, concat(...elements));
}

/** Non-negative INTEGER from big-endian magnitude bytes. */
export function unsignedInteger(magnitude: Uint8Array): Bytes {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const content = trimmed.length > 0 && (trimmed[0] & 0x80) !== 0
    ? concat(Uint8Array.of(0), trimmed)
    : trimmed.length === 0
    ? Uint8Array.of(0)
    : trimmed;
  return tlv(0x02, content);
}

/** Small non-negative INTEGER. */
export function smallInteger(value: number): Bytes {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return unsignedInteger(Uint8Array.from(bytes));
}

/** BOOLEAN. */
export function boolean(value: boolean): Bytes {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0));
}

/** OBJECT IDENTIFIER from dotted text. */
export function objectIdentifier(dotted: string): Bytes {
  const arcs = dotted.split(".").map(Number);
  const bytes: number[] = [arcs[0] * 40 + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
      chunk.unshift(0x80 | (rest & 0x7f));
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** UTF8String. */
export function utf8String(text: string): Bytes {
  return tlv(0x0c, new TextEncoder().encode(text));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Bytes {
  return tlv(0x04, bytes);
}

/** BIT STRING holding whole bytes. */
export function bitString(bytes: Uint8Array): Bytes {
  return tlv(0x03, concat(Uint8Array.of(0), bytes));
}

/** BIT STRING of named bits (bit 0 = most significant bit of the first byte), DER-minimal. */
export function namedBits(bits: number[]): Bytes {
  if (bits.length === 0) return tlv(0x03, Uint8Array.of(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)] |= 0x80 >> (bit % 8);
  const unused = 7 - (highest % 8);
  return tlv(0x03, concat(Uint8Array.of(unused), bytes));
}

/** UTCTime before 2050, GeneralizedTime from 2050 on, as RFC 5280 requires. */
export function time(date: Date): Bytes {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${
    pad(date.getUTCMinutes())
  }${pad(date.getUTCSeconds())}Z`;
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) {
    return tlv(0x17, new TextEncoder().encode(`${pad(year % 100)}${rest}`));
  }
  return tlv(0x18, new TextEncoder().encode(`${pad(year, 4)}${rest}`));
}

/** Context-specific EXPLICIT tag `[n]` around an encoded element. */
export function explicit(n: number, element: Uint8Array): Bytes {
  return tlv(0xa0 | n, element);
}

/** Context-specific IMPLICIT primitive tag `[n]` with raw content. */
export function implicitPrimitive(n: number, content: Uint8Array): Bytes {
  return tlv(0x80 | n, content);
}

/** One decoded TLV: its tag and where its header and content lie in the input. */
export interface Element {
  /** Tag byte. */
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads the TLV at `offset`; throws on truncated or indefinite-length input. */
export function readElement(bytes: Uint8Array, offset: number): Element {
  if (offset + 2 > bytes.length) {
    throw new Error(`expected a DER element at offset ${offset}, found the end of the input`);
  }
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) {
      throw new Error(
        `expected a definite DER length at offset ${offset}, found ${count} length bytes`,
      );
    }
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + bytes[contentStart + index];
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) {
    throw new Error(
      `expected ${length} content bytes at offset ${offset}, found ${bytes.length - contentStart}`,
    );
  }
  return { tag, start: offset, contentStart, end };
}

/** Decodes the children of a constructed element. */
export function children(bytes: Uint8Array, parent: Element): Element[] {
  const out: Element[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const element = readElement(bytes, offset);
    out.push(element);
    offset = element.end;
  }
  return out;
}
