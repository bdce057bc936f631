/**
 * Watch streams: newline-delimited JSON events over a chunked response,
 * iterated with `for await`, and a watcher that resumes from the last seen
 * resourceVersion when the connection drops.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { backoffDelay, isAbortOf, sleep } from "./_async.ts";
import {
  errorFromStatus,
  KubeApiError,
  KubeBadRequestError,
  KubeGoneError,
  KubeInvalidError,
  networkError,
} from "./errors.ts";
import type { KubeObject, SelectorOptions, WatchOptions } from "./types.ts";

const logger = getLogger(["vkedge", "kube", "watch"]);

/** An event about an object: ADDED, MODIFIED, DELETED, or a BOOKMARK carrying only a resourceVersion. */
export interface WatchEvent<T> {
  /** What happened to the object. */
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  /** The object after the change (its last state for DELETED). */
  object: T;
}

/** An ERROR event of the raw stream, carrying a `Status` (code 410 means the resourceVersion is too old). */
export interface WatchErrorEvent {
  /** Always `ERROR`. */
  type: "ERROR";
  /** Why the watch failed. */
  object: Status;
}

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

function parseLine<T>(line: string): WatchEvent<T> | WatchErrorEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new SyntaxError(
      `expected a JSON watch event per line, found ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
  const event = value as { type?: unknown; object?: unknown };
  if (
    typeof value !== "object" || value === null || typeof event.type !== "string" ||
    !EVENT_TYPES.has(event.type) || typeof event.object !== "object" || event.object === null
  ) {
    throw new SyntaxError(
      `expected a watch event {type, object}, found ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
  return value as WatchEvent<T> | WatchErrorEvent;
}

/**
 * Parses a watch response body into events, line by line, however the chunks
 * are split; ERROR events are yielded as they are. Aborting `signal` cancels
 * the body and ends the iteration.
 */
export async function* parseWatchStream<T>(
  body: ReadableStream<Uint8Array>,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<WatchEvent<T> | WatchErrorEvent, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const { signal } = options;
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let buffer = "";
  try {
    if (signal?.aborted) return;
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line !== "") yield parseLine<T>(line);
        newline = buffer.indexOf("\n");
      }
    }
    const rest = buffer.trim();
    if (rest !== "" && !signal?.aborted) yield parseLine<T>(rest);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Not awaited: cancelling a streamed body may wait on the connection,
    // and stopping must not.
    reader.cancel().catch(() => {});
  }
}

/** Options of {@linkcode WatchStream}. */
export interface WatchStreamOptions {
  /** Ends the iteration quietly when it aborts. */
  signal?: AbortSignal;
  /** Names the watch in errors, e.g. `watch pods` (default `watch`). */
  what?: string;
  /** Cancels the underlying request; called by {@linkcode WatchStream.close}. */
  abort?: () => void;
  /** Told the type of each event received, ERROR included. */
  onEvent?: (type: string) => void;
}

/** An open watch: iterate it for events; ERROR events are thrown as typed errors (410 as `KubeGoneError`). */
export class WatchStream<T> implements AsyncIterable<WatchEvent<T>> {
  readonly #body: ReadableStream<Uint8Array>;
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  readonly #abort: (() => void) | undefined;
  readonly #onEvent: ((type: string) => void) | undefined;
  #used = false;
  #closed = false;

  /**
   * Wraps an open watch response body. `what` names the watch in errors (e.g.
   * `watch pods`); `abort` cancels the underlying request on {@linkcode close};
   * `onEvent` is told the type of each event received, ERROR included (for metrics).
   */
  constructor(
    body: ReadableStream<Uint8Array>,
    options: WatchStreamOptions = {},
  ) {
    this.#body = body;
    this.#signal = options.signal;
    this.#what = options.what ?? "watch";
    this.#abort = options.abort;
    this.#onEvent = options.onEvent;
  }

  /** Ends the watch and releases the connection; an ongoing iteration stops without an error. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort?.();
    if (!this.#body.locked) this.#body.cancel().catch(() => {});
  }

  /** Yields events until the server ends the watch or the signal aborts. */
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent<T>, void, undefined> {
    if (this.#used) {
      throw new Error(`${this.#what}: expected a fresh watch stream, found one already iterated`);
    }
    this.#used = true;
    if (this.#closed || this.#signal?.aborted) {
      await this.#body.cancel().catch(() => {});
      return;
    }
    try {
      for await (const event of parseWatchStream<T>(this.#body, { signal: this.#signal })) {
        this.#onEvent?.(event.type);
        if (event.type === "ERROR") {
          throw errorFromStatus(event.object.code ?? 500, event.object);
        }
        yield event;
      }
    } catch (error) {
      if (this.#closed || isAbortOf(error, this.#signal)) return;
      if (error instanceof KubeApiError || error instanceof SyntaxError) throw error;
      throw networkError(error, this.#what);
    }
  }
}

/** Something that opens watches, such as a `ResourceClient`. */
export interface Watchable<T> {
  /** Opens a watch. */
  watch(options: WatchOptions): Promise<WatchStream<T>>;
}

/** Options of {@linkcode watchWithResume}. */
export interface ResumingWatchOptions extends SelectorOptions {
  /** Start after this resourceVersion; without it the server first sends every object as ADDED. */
  resourceVersion?: string;
  /** Ends the watch; iteration then stops without an error. */
  signal?: AbortSignal;
  /** Server-side timeout of each watch request (default: random between 5 and 10 minutes). */
  timeoutSeconds?: number;
  /** First reconnect delay after a failure (default 800 ms), doubling up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest reconnect delay (default 30 s). */
  maxBackoffMs?: number;
  /** Called each time a watch request is established. */
  onOpen?: (resourceVersion: string | undefined) => void;
}

function resourceVersionOf(object: unknown): string | undefined {
  const meta = (object as KubeObject | undefined)?.metadata;
  return meta?.resourceVersion || undefined;
}

/**
 * Watches without end: when a watch ends or the connection drops it
 * re-establishes from the last seen resourceVersion (bookmarks included), with
 * backoff after failures. Throws `KubeGoneError` when that version is too old, so
 * the caller relists; stops quietly when the signal aborts.
 */
export async function* watchWithResume<T extends KubeObject>(
  source: Watchable<T>,
  options: ResumingWatchOptions = {},
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const { signal } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 800;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let resourceVersion = options.resourceVersion;
  let failures = 0;

  const nextDelay = () => backoffDelay(failures - 1, initialBackoffMs, maxBackoffMs);
  const pause = async (delay = nextDelay()): Promise<boolean> => {
    try {
      await sleep(delay, signal);
      return true;
    } catch (error) {
      if (isAbortOf(error, signal)) return false;
      throw error;
    }
  };

  while (!signal?.aborted) {
    let stream: WatchStream<T>;
    try {
      stream = await source.watch({
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion,
        timeoutSeconds: options.timeoutSeconds ?? Math.floor(300 + Math.random() * 300),
        allowWatchBookmarks: true,
        signal,
      });
    } catch (error) {
      if (isAbortOf(error, signal)) return;
      if (
        error instanceof KubeGoneError || error instanceof KubeBadRequestError ||
        error instanceof KubeInvalidError
      ) throw error;
      failures++;
      const delay = nextDelay();
      logger.warn("watch could not be established, retrying in {seconds}s: {error}", {
        seconds: Math.round(delay / 100) / 10,
        error: String(error),
      });
      if (!await pause(delay)) return;
      continue;
    }
    options.onOpen?.(resourceVersion);
    const opened = performance.now();
    let received = 0;
    try {
      for await (const event of stream) {
        resourceVersion = resourceVersionOf(event.object) ?? resourceVersion;
        received++;
        yield event;
      }
    } catch (error) {
      if (isAbortOf(error, signal)) return;
      if (error instanceof KubeGoneError) throw error;
      failures++;
      logger.info("watch dropped at resourceVersion {resourceVersion}, resuming: {error}", {
        resourceVersion,
        error: String(error),
      });
      if (!await pause()) return;
      continue;
    } finally {
      stream.close();
    }
    if (received > 0 || performance.now() - opened > 1000) {
      failures = 0;
    } else {
      failures++;
      if (!await pause()) return;
    }
  }
}
