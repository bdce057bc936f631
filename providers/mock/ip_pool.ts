/**
 * Pod IPs of the mock provider: IPv4 addresses as unsigned 32-bit integers and the pool
 * that hands them out from the configured block, the same address for the same pod UID
 * whenever it is free, never one address twice.
 *
 * @module
 */

import { stableFraction } from "./stable_hash.ts";

/** The dotted-quad text of an address, such as `10.233.0.7`. */
export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** The address written as a dotted quad, or `undefined` if `text` is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Pool of the host addresses of one IPv4 block (network and broadcast addresses excluded). */
export class Ipv4Pool {
  readonly #base: number;
  readonly #usable: number;
  readonly #taken = new Set<number>();

  /** A pool over the block `base`/`prefix`. */
  constructor(base: number, prefix: number) {
    this.#base = base;
    this.#usable = 2 ** (32 - prefix) - 2;
  }

  /**
   * Takes a free address, starting the search at the one `seed` hashes to; `undefined`
   * when the block is full.
   */
  allocate(seed: string): number | undefined {
    const start = Math.floor(stableFraction(seed) * this.#usable);
    for (let step = 0; step < this.#usable; step++) {
      const address = this.#base + 1 + (start + step) % this.#usable;
      if (this.reserve(address)) return address;
    }
    return undefined;
  }

  /** Marks `address` as taken; false if it already was. */
  reserve(address: number): boolean {
    if (this.#taken.has(address)) return false;
    this.#taken.add(address);
    return true;
  }

  /** Makes `address` free again. */
  release(address: number): void {
    this.#taken.delete(address);
  }
}
