/**
 * The lifecycle log of one VM, what `kubectl logs` shows for its pod (ZStack has no
 * boot-log API): the lines vkedge wrote as it created, observed and deleted the VM, such
 * as `[vkedge] 2026-11-25T21:48:45Z VM vkedge-default.web (uuid) Running on host host-1`.
 * A ring of the last `logLines` lines, read through the provider kit's `LogLineSource`
 * so that `streamLogLines` applies the kubelet's log options.
 *
 * @module
 */

import { formatTime, type LogLine, type LogLineSource } from "../../lib/provider_kit/mod.ts";

/** One lifecycle line as `kubectl logs` shows it: `[vkedge] <time> <text>`. */
export function logLine(time: Date, text: string): string {
  return `[vkedge] ${formatTime(time)} ${text}`;
}

/** Options of {@linkcode LifecycleLog}. */
export interface LifecycleLogOptions {
  /** Lines kept; older ones are dropped. */
  capacity: number;
  /** Whether no more lines will come (the pod is gone); followers stop then. */
  ended: () => boolean;
  /** Clock for `sinceSeconds` (default `Date.now`). */
  now?: () => number;
}

/** The last lines of one VM's lifecycle, by sequence number. */
export class LifecycleLog implements LogLineSource {
  readonly #options: LifecycleLogOptions;
  readonly #lines: LogLine[] = [];
  /** Sequence number of `#lines[0]`. */
  #first = 0;
  readonly #waiters = new Set<() => void>();

  /** Creates an empty log. */
  constructor(options: LifecycleLogOptions) {
    this.#options = options;
  }

  /** The log's clock, for `sinceSeconds`. */
  now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Appends a line written at `time`, dropping the oldest beyond the capacity. */
  append(time: Date, text: string): void {
    this.#lines.push({ timeMs: time.getTime(), text: logLine(time, text) });
    const excess = this.#lines.length - this.#options.capacity;
    if (excess > 0) {
      this.#lines.splice(0, excess);
      this.#first += excess;
    }
    this.wake();
  }

  /** Wakes every follower, so that it looks again (a new line, or the log ended). */
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
    return this.#options.ended();
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
