/**
 * Stable "random" traits for the mock's pods, containers and node: hashes of a seed text
 * (a pod UID, a container name, a node name), so that the same pod always gets the same
 * IP, the same usage and the same machine id, in every process.
 *
 * @module
 */

/** FNV-1a of `text`, mapped to [0, 1). */
export function stableFraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** `length` hexadecimal digits derived from `seed`. */
export function stableHex(seed: string, length: number): string {
  let text = "";
  for (let round = 0; text.length < length; round++) {
    text += Math.floor(stableFraction(`${seed}#${round}`) * 2 ** 32).toString(16).padStart(8, "0");
  }
  return text.slice(0, length);
}
