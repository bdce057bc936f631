/**
 * The lifecycle log of one VM, what `kubectl logs` shows for its pod: the lines vkedge wrote
 * as it cloned, observed, powered and destroyed the VM, such as
 * `[vkedge] 2026-12-01T10:27:43Z VM vkedge-default.web (vm-42) poweredOn on host h1, IP
 * 10.0.0.5`. A ring of the last lines, read through the provider kit's `LogLineSource` so
 * that `streamLogLines` applies the kubelet's log options.
 *
 * @module
 */

import { formatTime, type LogLine, type LogLineSource } from "../../lib/provider_kit/mod.ts";

/** The last lines of one VM's lifecycle, by sequence number. */
export class LifecycleLog implements LogLineSource {
  readonly #capacity: number;
  readonly #ended: () => boolean;
  readonly #now: () => number;
  readonly #lines: LogLine[] = [];
  #first = 0;
  readonly #waiters = new Set<() => void>();

  /** A log keeping `capacity` lines; `ended` tells followers when to stop. */
  constructor(options: { capacity: number; ended: () => boolean; now?: () => number }) {
    this.#capacity = options.capacity;
    this.#ended = options.ended;
    this.#now = options.now ?? Date.now;
  }

  /** The log's clock, for `sinceSeconds`. */
  now(): number {
    return this.#now();
  }

  /** Appends `[vkedge] <time> <text>`, dropping the oldest lines beyond the capacity. */
  append(text: string): void {
    const time = new Date(this.#now());
    this.#lines.push({ timeMs: time.getTime(), text: `[vkedge] ${formatTime(time)} ${text}` });
    const excess = this.#lines.length - this.#capacity;
    if (excess > 0) {
      this.#lines.splice(0, excess);
      this.#first += excess;
    }
    this.wake();
  }

  /** Wakes every follower, so that it looks again. */
  wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Index of the oldest line still held. */
  first(): number {
    return this.#first;
  }

  /** Index one past the newest line. */
  end(): number {
    return this.#first + this.#lines.length;
  }

  /** The line at `index`. */
  line(index: number): LogLine {
    return this.#lines[index - this.#first];
  }

  /** Whether no more lines will come. */
  ended(): boolean {
    return this.#ended();
  }

  /** Resolves at the next `append` or `wake`, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}
