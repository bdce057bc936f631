/**
 * A token bucket rate limiter like client-go's `flowcontrol`: `qps` tokens a
 * second refill a bucket of `burst` tokens; each request takes one.
 *
 * @module
 */

import { sleep } from "./_async.ts";

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained requests per second (default 5); `Infinity` disables limiting. */
  qps?: number;
  /** Requests allowed at once after an idle period (default 10). */
  burst?: number;
  /** The clock, in milliseconds; for tests. */
  now?: () => number;
}

/** A token bucket: `acquire()` waits until a token is free, in call order. */
export class RateLimiter {
  /** Size of the bucket. */
  readonly burst: number;
  #qps: number;
  #tokens: number;
  #last: number;
  #now: () => number;

  /** Creates a full bucket; defaults are client-go's (qps 5, burst 10). */
  constructor(options: RateLimiterOptions = {}) {
    this.#qps = options.qps ?? 5;
    this.burst = options.burst ?? 10;
    if (!(this.#qps > 0)) {
      throw new RangeError(`qps: expected a number above 0, found ${this.#qps}`);
    }
    if (!Number.isInteger(this.burst) || this.burst < 1) {
      throw new RangeError(`burst: expected an integer of at least 1, found ${this.burst}`);
    }
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.burst;
    this.#last = this.#now();
  }

  /** Tokens added per second. */
  get qps(): number {
    return this.#qps;
  }

  /** Changes the refill rate from now on (tokens already in the bucket stay). */
  setQps(qps: number): void {
    if (!(qps > 0)) throw new RangeError(`qps: expected a number above 0, found ${qps}`);
    if (this.#qps !== Infinity) this.#refill();
    this.#qps = qps;
    this.#last = this.#now();
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) / 1000 * this.#qps);
    this.#last = now;
  }

  /** Takes a token now, even one not yet refilled, and returns how many milliseconds to wait before using it. */
  reserve(): number {
    if (this.#qps === Infinity) return 0;
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#qps * 1000;
  }

  /** Takes a token if one is free now; returns whether it did. */
  tryAcquire(): boolean {
    if (this.#qps === Infinity) return true;
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Waits until a token is free and takes it; rejects with the signal's reason (returning the token) on abort. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const wait = this.reserve();
    if (wait === 0) return;
    try {
      await sleep(wait, signal);
    } catch (error) {
      this.#tokens += 1;
      throw error;
    }
  }
}
