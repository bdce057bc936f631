/**
 * The main process of a mock container whose pod gives it `command` or `args`: the
 * built-in command set (`exec_commands.ts`) runs it inside the agent, its output (stdout
 * and stderr, line by line) is the container's log, and when it ends the container run
 * ends with its exit code (`Completed` for 0, `Error` otherwise), which is what Jobs,
 * restart policies and CrashLoopBackOff need. A container with neither keeps running, as
 * a server image would, and its log is the synthetic heartbeat. Each run has its own files
 * (a fresh writable layer), shared with every exec into it.
 *
 * @module
 */

import type { Container } from "kubernetes-types/core/v1.d.ts";
import { abortableSleep, type LogLine, type LogLineSource } from "../../lib/provider_kit/mod.ts";
import { type CommandEnvironment, runBuiltinCommand } from "./exec_commands.ts";

/** Lines a process log keeps; older ones are dropped. */
const MAX_LINES = 10_000;

/** The command line a container's main process runs, or `undefined` when it has none. */
export function mainCommandOf(spec: Container | undefined): string[] | undefined {
  const command = [...(spec?.command ?? []), ...(spec?.args ?? [])];
  return command.length === 0 ? undefined : command;
}

/** The output of one process run, as a `LogLineSource` for `streamLogLines`. */
export class ProcessLog implements LogLineSource {
  readonly #lines: LogLine[] = [];
  #dropped = 0;
  #ended = false;
  #partial = "";
  #waiters: (() => void)[] = [];
  readonly #now: () => number;

  /** An empty log on the clock `now`. */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** Appends output; complete lines become log lines. */
  write(text: string): void {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const part of parts) this.#push(part.replace(/\r$/, ""));
  }

  /** Marks the end of the output (the process ended). */
  close(): void {
    if (this.#partial !== "") this.#push(this.#partial);
    this.#partial = "";
    this.#ended = true;
    this.#wake();
  }

  #push(text: string): void {
    this.#lines.push({ timeMs: this.#now(), text });
    if (this.#lines.length > MAX_LINES) {
      this.#lines.shift();
      this.#dropped++;
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  first(): number {
    return this.#dropped;
  }

  end(): number {
    return this.#dropped + this.#lines.length;
  }

  line(index: number): LogLine {
    return this.#lines[index - this.#dropped];
  }

  ended(): boolean {
    return this.#ended;
  }

  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.#ended) return resolve();
      this.#waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  now(): number {
    return this.#now();
  }
}

/** One running (or ended) main process. */
export interface ContainerProcess {
  /** Its output. */
  log: ProcessLog;
  /** Its files, shared with exec sessions into the container. */
  files: Map<string, string>;
  /** Resolves with the exit code once it ended (137 when stopped). */
  exited: Promise<number>;
  /** Stops it (the exit code becomes 137). */
  stop(): void;
}

/** Starts `command` with `environment` (its files become the process's files). */
export function startProcess(
  command: string[],
  options: { environment: CommandEnvironment; now: () => number },
): ContainerProcess {
  const files = options.environment.files ?? new Map<string, string>();
  const log = new ProcessLog(options.now);
  const stop = new AbortController();
  const decoder = new TextDecoder();
  const sink = () =>
    new WritableStream<Uint8Array>({
      write: (chunk) => log.write(decoder.decode(chunk, { stream: true })),
    });
  const exited = (async () => {
    // Let the creation that started it finish reporting before the first line or the end.
    await abortableSleep(0, stop.signal);
    try {
      return await runBuiltinCommand(command, {
        tty: false,
        stdout: sink(),
        stderr: sink(),
      }, { environment: { ...options.environment, files }, signal: stop.signal });
    } catch (error) {
      log.write(`mock: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    } finally {
      log.close();
    }
  })();
  return { log, files, exited, stop: () => stop.abort() };
}
