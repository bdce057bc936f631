/**
 * An informer: a reflector filling a store, and handlers told about every
 * add, update and delete. Handler failures are logged, never fatal. Each set of
 * handlers may ask for its own resync period, as with client-go's
 * `AddEventHandlerWithResyncPeriod`, so that controllers sharing one informer
 * (and one watch) keep their own rhythm.
 *
 * @module
 */

import { getLogger, type Logger } from "@logtape/logtape";
import { errorStack } from "../errors.ts";
import { type ListerWatcher, Reflector, type ReflectorOptions } from "./reflector.ts";
import { Store } from "./store.ts";
import type { KubeObject } from "./types.ts";

/** Callbacks of an informer; each may be async (a rejection is logged). */
export interface InformerHandlers<T> {
  /** An object appeared (or was present at start). */
  onAdd?(object: T): void | Promise<void>;
  /** An object changed; on resync `oldObject === newObject`. */
  onUpdate?(oldObject: T, newObject: T): void | Promise<void>;
  /** An object was deleted; its final state, or its last known state if the delete happened while disconnected. */
  onDelete?(object: T): void | Promise<void>;
}

/** Options of {@linkcode Informer.addHandlers}. */
export interface AddHandlersOptions {
  /** Every this many milliseconds, `onUpdate(object, object)` for each stored object (default off). */
  resyncMs?: number;
}

/** Options of {@linkcode Informer}: the reflector's, without its handler. */
export type InformerOptions<T = KubeObject> = Omit<ReflectorOptions<T>, "handler">;

interface Registration<T> {
  handlers: InformerHandlers<T>;
  resyncMs?: number;
  timer?: ReturnType<typeof setInterval>;
}

/** Watches a collection into {@linkcode Informer.store} and calls handlers on changes. */
export class Informer<T extends KubeObject> {
  /** The informer's cache of the collection. */
  readonly store: Store<T> = new Store<T>();
  readonly #reflector: Reflector<T>;
  readonly #registrations: Registration<T>[] = [];
  readonly #logger: Logger;
  #running = false;

  /** Creates an informer over `source` (e.g. `client.resource<Pod>(PODS)`). */
  constructor(source: ListerWatcher<T>, options: InformerOptions<T> = {}) {
    this.#logger = getLogger(["vkedge", "kube", "informer"]).with({
      informer: options.name ?? "objects",
    });
    this.#reflector = new Reflector<T>(source, this.store, {
      ...options,
      handler: {
        onAdd: (object) => this.#dispatch("onAdd", (h) => h.onAdd?.(object)),
        onUpdate: (oldObject, newObject) =>
          this.#dispatch("onUpdate", (h) => h.onUpdate?.(oldObject, newObject)),
        onDelete: (object) => this.#dispatch("onDelete", (h) => h.onDelete?.(object)),
      },
    });
  }

  /**
   * Registers handlers; if the informer has already synced, they first get `onAdd` for each
   * stored object. With `options.resyncMs` they also get periodic `onUpdate(o, o)` calls.
   */
  addHandlers(handlers: InformerHandlers<T>, options: AddHandlersOptions = {}): void {
    const registration: Registration<T> = { handlers, resyncMs: options.resyncMs };
    this.#registrations.push(registration);
    if (this.hasSynced()) {
      for (const object of this.store.list()) {
        this.#call("onAdd", () => handlers.onAdd?.(object));
      }
    }
    if (this.#running) this.#startResync(registration);
  }

  /** Whether the initial list has been delivered. */
  hasSynced(): boolean {
    return this.#reflector.hasSynced();
  }

  /** Resolves true once synced, or false if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.#reflector.waitForSync(signal);
  }

  /** The resourceVersion the store reflects. */
  get lastSyncResourceVersion(): string {
    return this.#reflector.lastSyncResourceVersion;
  }

  /** Runs list + watch until the signal aborts, then returns. */
  async run(signal: AbortSignal): Promise<void> {
    this.#running = true;
    for (const registration of this.#registrations) this.#startResync(registration);
    try {
      await this.#reflector.run(signal);
    } finally {
      this.#running = false;
      for (const registration of this.#registrations) {
        clearInterval(registration.timer);
        registration.timer = undefined;
      }
    }
  }

  #startResync(registration: Registration<T>): void {
    const period = registration.resyncMs;
    if (period === undefined || period <= 0 || registration.timer !== undefined) return;
    registration.timer = setInterval(() => {
      if (!this.hasSynced()) return;
      const { handlers } = registration;
      for (const object of this.store.list()) {
        this.#call("onUpdate", () => handlers.onUpdate?.(object, object));
      }
    }, period);
  }

  #dispatch(what: string, call: (handlers: InformerHandlers<T>) => void | Promise<void>): void {
    for (const { handlers } of this.#registrations) this.#call(what, () => call(handlers));
  }

  #call(what: string, call: () => void | Promise<void>): void {
    try {
      const result = call();
      if (result instanceof Promise) {
        result.catch((error: unknown) => this.#logHandlerError(what, error));
      }
    } catch (error) {
      this.#logHandlerError(what, error);
    }
  }

  #logHandlerError(what: string, error: unknown): void {
    this.#logger.error("{handler} handler failed: {error}", {
      handler: what,
      error: errorStack(error),
    });
  }
}
