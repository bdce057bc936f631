/**
 * The instances a scrape-time metric reads (work queues, reflectors), held weakly: an
 * instance that is dropped without being removed is garbage-collected all the same and
 * simply stops reporting.
 *
 * @module
 */

/** A set of objects iterated at scrape time that does not keep its members alive. */
export class LiveInstances<T extends object> {
  readonly #refs = new Set<WeakRef<T>>();
  readonly #byInstance = new WeakMap<T, WeakRef<T>>();

  /** Adds `instance`; adding it again does nothing. */
  add(instance: T): void {
    if (this.#byInstance.has(instance)) return;
    const ref = new WeakRef(instance);
    this.#byInstance.set(instance, ref);
    this.#refs.add(ref);
  }

  /** Removes `instance`, so that it no longer reports. */
  delete(instance: T): void {
    const ref = this.#byInstance.get(instance);
    if (ref === undefined) return;
    this.#byInstance.delete(instance);
    this.#refs.delete(ref);
  }

  /** Yields the members still alive, forgetting those already collected. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const ref of this.#refs) {
      const instance = ref.deref();
      if (instance === undefined) this.#refs.delete(ref);
      else yield instance;
    }
  }
}
