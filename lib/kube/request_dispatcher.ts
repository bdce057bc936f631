/**
 * When each request of a client may go to the API server. Requests have one of three
 * priorities:
 *
 * - `critical` (the node's Lease and status, the heartbeat the node-lifecycle controller
 *   reads) never waits on the client side, as the kubelet's heartbeat client has no QPS
 *   limit: a backlog of pod work cannot make the node look dead;
 * - `normal` requests take a token of the shared bucket (`--kube-api-qps`,
 *   `--kube-api-burst`);
 * - `background` requests (events) take a token too, but only once no normal request is
 *   waiting or in flight (looked at on the next turn of the event loop, so that the write
 *   the same work queued goes first), or after waiting `backgroundMaxDelayMs`, and at most
 *   `backgroundInFlight` at once: they never delay the writes that matter.
 *
 * When the server answers 429 Too Many Requests (API Priority and Fairness does when the
 * request's priority level is full, with a `Retry-After`), normal and background requests
 * pause for that long and the bucket's rate halves; it grows back by a tenth of the
 * configured rate for every second without a 429 (additive increase, multiplicative
 * decrease, as TCP does).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { sleep } from "./_async.ts";
import { RateLimiter } from "./rate_limiter.ts";

/** How urgent a request is; see the module documentation. */
export type RequestPriority = "critical" | "normal" | "background";

/** Options of {@linkcode RequestDispatcher}. */
export interface RequestDispatcherOptions {
  /** Sustained requests per second (default 5, like client-go); `Infinity` disables the bucket. */
  qps?: number;
  /** Requests allowed at once after an idle period (default 10). */
  burst?: number;
  /** A bucket to use instead of one made from `qps` and `burst`. */
  limiter?: RateLimiter;
  /** Background requests in flight at once (default 16). */
  backgroundInFlight?: number;
  /** Longest wait of a background request for normal ones to end (default 10 s). */
  backgroundMaxDelayMs?: number;
  /** Lowest rate a 429 can bring the bucket to (default 1 per second). */
  minQps?: number;
  /** The clock, in milliseconds; for tests. */
  now?: () => number;
}

/** A request let through by the dispatcher: call `done` once its answer has been read. */
export interface Admission {
  /** Ends the request's turn (later calls do nothing). */
  done(): void;
}

interface BackgroundWaiter {
  deadline: number;
  resolve(): void;
}

const NO_TURN: Admission = { done() {} };

/** The longest pause a `Retry-After` can ask for. */
const MAX_PAUSE_MS = 60_000;

const log = getLogger(["vkedge", "kube", "client"]);

/** Orders the requests of one or more clients by priority, under one rate limit. */
export class RequestDispatcher {
  readonly #limiter: RateLimiter;
  readonly #ceiling: number;
  readonly #minQps: number;
  readonly #backgroundInFlight: number;
  readonly #backgroundMaxDelayMs: number;
  readonly #now: () => number;
  readonly #background: BackgroundWaiter[] = [];
  #normalPending = 0;
  #backgroundRunning = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pumpScheduled = false;
  #pausedUntil = 0;
  #throttle: { at: number; qps: number } | undefined;

  /** A dispatcher with a full bucket. */
  constructor(options: RequestDispatcherOptions = {}) {
    this.#limiter = options.limiter ??
      new RateLimiter({ qps: options.qps ?? 5, burst: options.burst ?? 10, now: options.now });
    this.#ceiling = this.#limiter.qps;
    this.#minQps = Math.min(options.minQps ?? 1, this.#ceiling);
    this.#backgroundInFlight = options.backgroundInFlight ?? 16;
    this.#backgroundMaxDelayMs = options.backgroundMaxDelayMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The bucket's rate now: the configured one, or less after a 429. */
  get qps(): number {
    this.#recover();
    return this.#limiter.qps;
  }

  /** The configured rate, which the bucket returns to after a 429. */
  get ceiling(): number {
    return this.#ceiling;
  }

  /**
   * Waits until a request of `priority` may be sent; rejects with the signal's reason when
   * it aborts first. Call `done()` on the result once the answer is read (for a stream,
   * once it is open).
   */
  async admit(priority: RequestPriority, signal?: AbortSignal): Promise<Admission> {
    signal?.throwIfAborted();
    if (priority === "critical") return NO_TURN;
    if (priority === "background") await this.#backgroundTurn(signal);
    else this.#normalPending++;
    const turn = once(() =>
      priority === "background" ? this.#backgroundDone() : this.#normalDone()
    );
    try {
      await this.#waitForPause(signal);
      this.#recover();
      await this.#limiter.acquire(signal);
    } catch (error) {
      turn.done();
      throw error;
    }
    return turn;
  }

  /**
   * The server answered 429: pause normal and background requests for `retryAfterMs`
   * (default 1 s, at most 60 s) and halve the rate, once per pause however many requests were refused.
   */
  throttled(retryAfterMs: number | undefined): void {
    const now = this.#now();
    const wait = Math.min(retryAfterMs ?? 1000, MAX_PAUSE_MS);
    const first = now >= this.#pausedUntil;
    this.#pausedUntil = Math.max(this.#pausedUntil, now + wait);
    if (!first || this.#ceiling === Infinity) return;
    const qps = Math.max(this.#minQps, this.qps / 2);
    this.#throttle = { at: this.#pausedUntil, qps };
    this.#limiter.setQps(qps);
    log.info(
      "the API server asked to slow down (429): pausing requests for {seconds}s, then {qps} per second, growing back to {ceiling}",
      { seconds: wait / 1000, qps: Math.round(qps * 10) / 10, ceiling: this.#ceiling },
    );
  }

  /** Additive increase: a tenth of the ceiling for every second since the last pause ended. */
  #recover(): void {
    const throttle = this.#throttle;
    if (throttle === undefined) return;
    const seconds = Math.floor((this.#now() - throttle.at) / 1000);
    const qps = Math.min(this.#ceiling, throttle.qps + Math.max(0, seconds) * this.#ceiling / 10);
    if (qps >= this.#ceiling) this.#throttle = undefined;
    if (qps !== this.#limiter.qps) this.#limiter.setQps(qps);
  }

  async #waitForPause(signal: AbortSignal | undefined): Promise<void> {
    for (let left = this.#pausedUntil - this.#now(); left > 0;) {
      await sleep(left, signal);
      left = this.#pausedUntil - this.#now();
    }
  }

  #backgroundTurn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: BackgroundWaiter = {
        deadline: this.#now() + this.#backgroundMaxDelayMs,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.#background.indexOf(waiter);
        if (index >= 0) this.#background.splice(index, 1);
        this.#schedulePump();
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#background.push(waiter);
      this.#schedulePump();
    });
  }

  #normalDone(): void {
    this.#normalPending--;
    if (this.#normalPending === 0) this.#schedulePump();
  }

  #backgroundDone(): void {
    this.#backgroundRunning--;
    this.#schedulePump();
  }

  /**
   * Looks at the background queue on the next turn of the event loop, once the work that
   * queued an event (a pod's status write after its create) has asked for its turn too.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setTimeout(() => {
      this.#pumpScheduled = false;
      this.#pump();
    }, 0);
  }

  /** Lets waiting background requests go, in order, while the rules allow. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#background.length > 0 && this.#backgroundRunning < this.#backgroundInFlight) {
      const head = this.#background[0];
      if (this.#normalPending > 0 && this.#now() < head.deadline) {
        this.#timer = setTimeout(() => this.#pump(), head.deadline - this.#now());
        return;
      }
      this.#background.shift();
      this.#backgroundRunning++;
      head.resolve();
    }
  }
}

function once(done: () => void): Admission {
  let called = false;
  return {
    done() {
      if (called) return;
      called = true;
      done();
    },
  };
}
