/**
 * The log of one server, what `kubectl logs` shows for its pod: the lifecycle lines vkedge
 * wrote as it created, observed and deleted the server (`[vkedge] <time> server … ACTIVE
 * on host compute-1`), and the server's console output (`os-getConsoleOutput`), each
 * console line stamped with the time vkedge first read it. The console is read again
 * whenever the log is asked for (the last `tail` lines when a tail is given, else the
 * last `logLines`) and while it is followed; what was read before is recognised by
 * overlap, so a line is added once. A ring of the last `logLines` lines, read through the
 * provider kit's `LogLineSource` so that `streamLogLines` applies the log options.
 *
 * @module
 */

import { formatTime, type LogLine, type LogLineSource } from "../../lib/provider_kit/mod.ts";

/** One lifecycle line as `kubectl logs` shows it: `[vkedge] <time> <text>`. */
export function lifecycleLine(time: Date, text: string): string {
  return `[vkedge] ${formatTime(time)} ${text}`;
}

/** Options of {@linkcode ServerLog}. */
export interface ServerLogOptions {
  /** Lines kept; older ones are dropped. */
  capacity: number;
  /** Whether no more lines will come (the pod is gone); followers stop then. */
  ended: () => boolean;
  /** Clock for `sinceSeconds` (default `Date.now`). */
  now?: () => number;
}

/**
 * How many of the first lines of `fresh` continue `known`: the longest suffix of `known`
 * that `fresh` starts with (0 when they share nothing).
 */
export function overlap(known: readonly string[], fresh: readonly string[]): number {
  for (let length = Math.min(known.length, fresh.length); length > 0; length--) {
    let same = true;
    for (let index = 0; index < length; index++) {
      if (known[known.length - length + index] !== fresh[index]) {
        same = false;
        break;
      }
    }
    if (same) return length;
  }
  return 0;
}

/** The last lines of one server's lifecycle and console. */
export class ServerLog implements LogLineSource {
  readonly #options: ServerLogOptions;
  readonly #lines: LogLine[] = [];
  /** Sequence number of `#lines[0]`. */
  #first = 0;
  readonly #waiters = new Set<() => void>();
  /** The console lines read so far (the last `capacity`), to recognise them again. */
  readonly #console: string[] = [];

  /** Creates an empty log. */
  constructor(options: ServerLogOptions) {
    this.#options = options;
  }

  /** The log's clock. */
  now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #push(timeMs: number, text: string): void {
    // Times never decrease, as the kit's log stream expects.
    const last = this.#lines.at(-1)?.timeMs ?? Number.NEGATIVE_INFINITY;
    this.#lines.push({ timeMs: Math.max(timeMs, last), text });
    const excess = this.#lines.length - this.#options.capacity;
    if (excess > 0) {
      this.#lines.splice(0, excess);
      this.#first += excess;
    }
  }

  /** Appends a lifecycle line written at `time`. */
  append(time: Date, text: string): void {
    this.#push(time.getTime(), lifecycleLine(time, text));
    this.wake();
  }

  /**
   * Takes console output read at `time` (the last lines of the console, possibly with
   * lines read before) and appends what is new; returns how many lines it added.
   */
  mergeConsole(output: string, time: Date): number {
    const fresh = output.replace(/\r\n?/g, "\n").split("\n");
    if (fresh.at(-1) === "") fresh.pop();
    const shared = overlap(this.#console, fresh);
    const added = fresh.slice(shared);
    for (const line of added) {
      this.#push(time.getTime(), line);
      this.#console.push(line);
    }
    const excess = this.#console.length - this.#options.capacity;
    if (excess > 0) this.#console.splice(0, excess);
    if (added.length > 0) this.wake();
    return added.length;
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
    return this.#options.ended();
  }

  /** Resolves at the next line or `wake`, or when `signal` aborts. */
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
