/**
 * A keyed in-memory store of objects (`namespace/name`, or `name` when
 * cluster-scoped), filled by a reflector and read by controllers.
 *
 * @module
 */

import type { KubeObject } from "./types.ts";

/** The store key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function metaKey(object: KubeObject): string {
  const name = object.metadata?.name;
  if (name === undefined || name === "") {
    throw new TypeError("metadata.name: expected a name to key the object by, found none");
  }
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a store key into namespace (`""` when cluster-scoped) and name. */
export function splitMetaKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * What {@linkcode Store.replace} changed: objects added, updated (old, new) and
 * deleted (last known); an object recreated under the same key (new UID) is a
 * delete plus an add.
 */
export interface ReplaceDiff<T> {
  /** Objects not in the store before. */
  added: T[];
  /** Objects whose resourceVersion changed, as `[old, new]`. */
  updated: [T, T][];
  /** Objects no longer present, in their last known state. */
  deleted: T[];
}

/** A keyed store; every read returns the stored objects, which callers must not mutate. */
export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #keyOf: (object: T) => string;

  /** Creates an empty store; `keyOf` defaults to {@linkcode metaKey}. */
  constructor(options: { keyOf?: (object: T) => string } = {}) {
    this.#keyOf = options.keyOf ?? metaKey;
  }

  /** The number of stored objects. */
  get size(): number {
    return this.#items.size;
  }

  /** The object stored under `key`, if any. */
  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** The stored version of `object` (looked up by its key), if any. */
  getByObject(object: T): T | undefined {
    return this.#items.get(this.#keyOf(object));
  }

  /** All stored objects. */
  list(): T[] {
    return [...this.#items.values()];
  }

  /** All keys. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Stores `object`, returning the version it replaced, if any. */
  add(object: T): T | undefined {
    const key = this.#keyOf(object);
    const old = this.#items.get(key);
    this.#items.set(key, object);
    return old;
  }

  /** Stores `object` (same as {@linkcode Store.add}), returning the version it replaced, if any. */
  update(object: T): T | undefined {
    return this.add(object);
  }

  /** Removes the object (or key), returning the removed version, if any. */
  delete(objectOrKey: T | string): T | undefined {
    const key = typeof objectOrKey === "string" ? objectOrKey : this.#keyOf(objectOrKey);
    const old = this.#items.get(key);
    this.#items.delete(key);
    return old;
  }

  /** Replaces the whole content with `objects` and reports the difference. */
  replace(objects: readonly T[]): ReplaceDiff<T> {
    const diff: ReplaceDiff<T> = { added: [], updated: [], deleted: [] };
    const next = new Map<string, T>();
    for (const object of objects) next.set(this.#keyOf(object), object);
    for (const [key, old] of this.#items) {
      const current = next.get(key);
      if (current === undefined || current.metadata?.uid !== old.metadata?.uid) {
        diff.deleted.push(old);
      } else if (current.metadata?.resourceVersion !== old.metadata?.resourceVersion) {
        diff.updated.push([old, current]);
      }
    }
    for (const [key, object] of next) {
      const old = this.#items.get(key);
      if (old === undefined || old.metadata?.uid !== object.metadata?.uid) diff.added.push(object);
    }
    this.#items.clear();
    for (const [key, object] of next) this.#items.set(key, object);
    return diff;
  }
}
