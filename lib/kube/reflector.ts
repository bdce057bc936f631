/**
 * The reflector keeps a {@linkcode Store} equal to the server's collection: it
 * lists (in pages), then watches from the list's resourceVersion, resumes after
 * dropped connections, and relists when the version is too old (410 Gone). It reports
 * lists, watches and applied events under its name (`reflector_metrics.ts`).
 *
 * @module
 */

import { getLogger, type Logger } from "@logtape/logtape";
import { backoffDelay, isAbortOf, sleep } from "./_async.ts";
import { KubeGoneError } from "./errors.ts";
import { ReflectorMetrics } from "./reflector_metrics.ts";
import type { Store } from "./store.ts";
import type { KubeList, KubeObject, ListOptions, SelectorOptions } from "./types.ts";
import { type Watchable, type WatchEvent, watchWithResume } from "./watch.ts";

/** Lists every page of a collection and opens watches; a `ResourceClient` is one. */
export interface ListerWatcher<T> extends Watchable<T> {
  /** Lists all pages; `limit` is the page size. */
  listAll(options: ListOptions): Promise<KubeList<T>>;
}

/** Receives the changes the reflector applies to its store. */
export interface ReflectorHandler<T> {
  /** An object appeared. */
  onAdd(object: T): void;
  /** An object changed (or, on resync, `oldObject === newObject`). */
  onUpdate(oldObject: T, newObject: T): void;
  /** An object was deleted; its last known state. */
  onDelete(object: T): void;
}

/** Options of {@linkcode Reflector}. */
export interface ReflectorOptions<T = KubeObject> extends SelectorOptions {
  /** Page size of lists (default 500). */
  pageSize?: number;
  /** Start by watching from this saved resourceVersion instead of listing (relists on 410). */
  resourceVersion?: string;
  /** Every this many milliseconds, report every stored object as updated to itself (default off). */
  resyncMs?: number;
  /** Server-side timeout of each watch request (default: random between 5 and 10 minutes). */
  watchTimeoutSeconds?: number;
  /** First delay after a failure (default 800 ms), doubling up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest delay after failures (default 30 s). */
  maxBackoffMs?: number;
  /** Names the reflector in logs and metrics (the `name` label), e.g. `pods`. */
  name?: string;
  /** Receives the applied changes. */
  handler?: ReflectorHandler<T>;
  /**
   * Applied to every listed or watched object before it is stored, as client-go's
   * `SetTransform`: drop what no reader needs (such as `managedFields`) to save memory.
   */
  transform?: (object: T) => T;
}

const noHandler: ReflectorHandler<unknown> = {
  onAdd() {},
  onUpdate() {},
  onDelete() {},
};

/** Mirrors a collection into a store with list + watch, as client-go's `Reflector`. */
export class Reflector<T extends KubeObject> {
  readonly #source: ListerWatcher<T>;
  readonly #store: Store<T>;
  readonly #options: ReflectorOptions<T>;
  readonly #handler: ReflectorHandler<T>;
  readonly #logger: Logger;
  readonly #metrics: ReflectorMetrics;
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #resourceVersion = "";

  /** Creates a reflector filling `store` from `source`. */
  constructor(source: ListerWatcher<T>, store: Store<T>, options: ReflectorOptions<T> = {}) {
    this.#source = source;
    this.#store = store;
    this.#options = options;
    this.#handler = options.handler ?? noHandler;
    this.#logger = getLogger(["vkedge", "kube", "reflector"]).with({
      reflector: options.name ?? "objects",
    });
    this.#metrics = new ReflectorMetrics(options.name ?? "objects");
  }

  /** The resourceVersion the store reflects (of the last list, event or bookmark). */
  get lastSyncResourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Whether the first list (or the watch from a saved resourceVersion) has completed. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, or false if the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#syncWaiters = this.#syncWaiters.filter((w) => w !== done);
        resolve(false);
      };
      const done = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      };
      this.#syncWaiters.push(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Lists and watches until the signal aborts; failures are logged and retried with backoff. */
  async run(signal: AbortSignal): Promise<void> {
    const initialBackoffMs = this.#options.initialBackoffMs ?? 800;
    const maxBackoffMs = this.#options.maxBackoffMs ?? 30_000;
    let resourceVersion = this.#options.resourceVersion || undefined;
    let failures = 0;
    let gone = false;
    let watchesSinceList = 0;
    const resync = this.#options.resyncMs !== undefined && this.#options.resyncMs > 0
      ? setInterval(() => this.#resync(), this.#options.resyncMs)
      : undefined;
    this.#metrics.started();
    try {
      while (!signal.aborted) {
        try {
          if (resourceVersion === undefined) {
            resourceVersion = await this.#relist(signal, gone);
            gone = false;
            watchesSinceList = 0;
          }
          for await (
            const event of watchWithResume(this.#source, {
              labelSelector: this.#options.labelSelector,
              fieldSelector: this.#options.fieldSelector,
              resourceVersion,
              timeoutSeconds: this.#options.watchTimeoutSeconds,
              initialBackoffMs,
              maxBackoffMs,
              signal,
              onOpen: () => {
                this.#metrics.watchOpened(watchesSinceList++ > 0);
                this.#markSynced();
              },
            })
          ) {
            resourceVersion = this.#apply(event) ?? resourceVersion;
            failures = 0;
          }
        } catch (error) {
          if (isAbortOf(error, signal)) break;
          failures++;
          if (error instanceof KubeGoneError) {
            this.#logger.info("resourceVersion {resourceVersion} is too old, relisting", {
              resourceVersion,
            });
            resourceVersion = undefined;
            gone = true;
            if (failures === 1) continue;
          }
          const delay = backoffDelay(failures - 1, initialBackoffMs, maxBackoffMs);
          if (!(error instanceof KubeGoneError)) {
            this.#metrics.failed();
            this.#logger.warn("list and watch failed, retrying in {seconds}s: {error}", {
              seconds: Math.round(delay / 100) / 10,
              error: String(error),
            });
          }
          try {
            await sleep(delay, signal);
          } catch {
            break;
          }
        }
      }
    } finally {
      clearInterval(resync);
      this.#metrics.stopped();
    }
  }

  async #relist(signal: AbortSignal, gone: boolean): Promise<string> {
    const list = await this.#source.listAll({
      labelSelector: this.#options.labelSelector,
      fieldSelector: this.#options.fieldSelector,
      limit: this.#options.pageSize ?? 500,
      signal,
    });
    const transform = this.#options.transform;
    const diff = this.#store.replace(
      transform === undefined ? list.items : list.items.map(transform),
    );
    const resourceVersion = list.metadata.resourceVersion ?? "";
    this.#resourceVersion = resourceVersion;
    this.#metrics.listed(gone);
    this.#logger.debug(
      "listed {count} objects at resourceVersion {resourceVersion}: {added} added, {updated} updated, {deleted} deleted",
      {
        count: list.items.length,
        resourceVersion,
        added: diff.added.length,
        updated: diff.updated.length,
        deleted: diff.deleted.length,
      },
    );
    for (const object of diff.deleted) this.#handler.onDelete(object);
    for (const object of diff.added) this.#handler.onAdd(object);
    for (const [oldObject, newObject] of diff.updated) this.#handler.onUpdate(oldObject, newObject);
    this.#markSynced();
    return resourceVersion;
  }

  #apply(watched: WatchEvent<T>): string | undefined {
    const transform = this.#options.transform;
    const event = transform === undefined || watched.type === "BOOKMARK"
      ? watched
      : { ...watched, object: transform(watched.object) };
    const resourceVersion = event.object.metadata?.resourceVersion || undefined;
    if (resourceVersion !== undefined) {
      this.#resourceVersion = resourceVersion;
      this.#metrics.synced();
    }
    this.#metrics.applied(event.type);
    switch (event.type) {
      case "ADDED":
      case "MODIFIED": {
        const old = this.#store.add(event.object);
        if (old === undefined) this.#handler.onAdd(event.object);
        else this.#handler.onUpdate(old, event.object);
        break;
      }
      case "DELETED":
        this.#store.delete(event.object);
        this.#handler.onDelete(event.object);
        break;
      case "BOOKMARK":
        break;
    }
    return resourceVersion;
  }

  #resync(): void {
    for (const object of this.#store.list()) this.#handler.onUpdate(object, object);
  }
}
