/**
 * Knows which cached objects a controller's own writes have already replaced. A worker that
 * writes an object and is queued again (its own write comes back through the watch) may run
 * before the watch has delivered the last write, and then sees, in the cache, a version its
 * own writes replaced: acting on it repeats work (a restore reverted twice). Every write
 * records the resourceVersion it was based on; a cached object with one of those versions is
 * stale, and the worker waits for the watch instead of acting.
 *
 * @example
 * ```ts
 * import { OwnWrites } from "./own_writes.ts";
 *
 * const writes = new OwnWrites();
 * writes.replaced("ns/a", { metadata: { resourceVersion: "7" } });
 * writes.isStale("ns/a", { metadata: { resourceVersion: "7" } }); // true: wait for the watch
 * writes.isStale("ns/a", { metadata: { resourceVersion: "9" } }); // false, and forgotten
 * ```
 *
 * @module
 */

interface Versioned {
  metadata?: { resourceVersion?: string };
}

/** The resourceVersions, per object key, that the controller's own writes replaced. */
export class OwnWrites {
  readonly #replaced = new Map<string, Set<string>>();

  /** Records that a write succeeded on top of `base`, so `base` is no longer current. */
  replaced(key: string, base: Versioned): void {
    const version = base.metadata?.resourceVersion;
    if (!version) return;
    let versions = this.#replaced.get(key);
    if (!versions) this.#replaced.set(key, versions = new Set());
    versions.add(version);
  }

  /**
   * Whether `cached` is a version this controller's own writes replaced. A version that is
   * not means the cache has caught up (a watch never goes back), so the key is forgotten.
   */
  isStale(key: string, cached: Versioned): boolean {
    const versions = this.#replaced.get(key);
    if (!versions) return false;
    const version = cached.metadata?.resourceVersion;
    if (version && versions.has(version)) return true;
    this.#replaced.delete(key);
    return false;
  }

  /** Forgets `key` (its object was deleted). */
  forget(key: string): void {
    this.#replaced.delete(key);
  }

  /** How many keys have writes the cache has not caught up with. */
  get size(): number {
    return this.#replaced.size;
  }
}
