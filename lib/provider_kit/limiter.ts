/**
 * The bound on a provider client's concurrent requests: a counting semaphore whose waiters
 * are served in order, so that a burst of creates cannot swamp the IaaS API (the ZStack and
 * OpenStack clients; job polls count as requests too).
 *
 * @module
 */

/** Counting semaphore; waiters are served in order. */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  /** Allows `limit` holders at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** How many slots are held now. */
  get active(): number {
    return this.#active;
  }

  /**
   * Waits for a slot (rejecting with the signal's reason if it aborts first) and returns
   * the function that gives it back; calling that twice gives it back once.
   */
  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.#active >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal.removeEventListener("abort", aborted);
          resolve();
        };
        const aborted = (): void => {
          const index = this.#waiting.indexOf(wake);
          if (index >= 0) this.#waiting.splice(index, 1);
          reject(signal.reason);
        };
        this.#waiting.push(wake);
        signal.addEventListener("abort", aborted, { once: true });
      });
    } else {
      this.#active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next(); // the slot passes to the next waiter
    };
  }
}
