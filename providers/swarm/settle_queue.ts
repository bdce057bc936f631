/**
 * The services whose tasks must be read again, and when: a service an event named is read
 * a moment later; one whose newest task is still on its way (pending, preparing, starting)
 * or has not caught up with an event yet (a container died, its task still says running)
 * is read again with a doubling backoff. The loop reads every due service in one call.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import type { Task } from "./api_types.ts";
import { taskSettled } from "./task_to_pod.ts";

const logger = getLogger(["vkedge", "provider", "swarm", "tracker"]);

const firstSettleMs = 100;

interface Dirty {
  /** When to read it. */
  dueAt: number;
  /** Pause before the read after this one, if it does not settle. */
  backoffMs: number;
  /** A container the events said stopped: its task must show that before it settles. */
  stoppedContainers: Set<string>;
}

/** Options of {@linkcode SettleQueue}. */
export interface SettleQueueOptions {
  /** Longest pause between two reads of a settling service (default 10 s). */
  maxSettleMs?: number;
  /** Clock. */
  now: () => number;
}

/** What {@linkcode SettleQueue.run} reads with. */
export interface SettleReader {
  /** Whether service `id` is still one of this node's. */
  known(id: string): boolean;
  /** Reads the tasks of the services `ids` (and checks each with `check`). */
  read(ids: string[], signal: AbortSignal): Promise<void>;
}

/** Services to read again, with their backoff. */
export class SettleQueue {
  readonly #options: SettleQueueOptions;
  readonly #dirty = new Map<string, Dirty>();
  #wake: (() => void) | undefined;

  /** An empty queue. */
  constructor(options: SettleQueueOptions) {
    this.#options = options;
  }

  /** Reads the tasks of service `id` soon, with whatever else is due. */
  mark(id: string, stoppedContainer?: string): void {
    const dirty = this.#dirty.get(id) ??
      { dueAt: 0, backoffMs: firstSettleMs, stoppedContainers: new Set<string>() };
    dirty.dueAt = Math.min(dirty.dueAt || Infinity, this.#options.now() + 50);
    dirty.backoffMs = firstSettleMs;
    if (stoppedContainer !== undefined) dirty.stoppedContainers.add(stoppedContainer);
    this.#dirty.set(id, dirty);
    this.#wake?.();
  }

  /**
   * Takes service `id` off the queue if its newest task settled and shows every stopped
   * container as stopped; otherwise it is read again after its backoff, which doubles.
   * `tasks` are its tasks, newest first.
   */
  check(id: string, tasks: Task[]): void {
    const newest = tasks[0];
    const dirty = this.#dirty.get(id);
    const waitingFor = dirty?.stoppedContainers ?? new Set<string>();
    for (const task of tasks) {
      const container = task.Status.ContainerStatus?.ContainerID;
      if (container && waitingFor.has(container) && task.Status.State !== "running") {
        waitingFor.delete(container);
      }
    }
    const settled = newest !== undefined && taskSettled(newest) && waitingFor.size === 0;
    if (settled) {
      this.#dirty.delete(id);
      return;
    }
    const backoffMs = dirty?.backoffMs ?? firstSettleMs;
    this.#dirty.set(id, {
      dueAt: this.#options.now() + backoffMs,
      backoffMs: Math.min(backoffMs * 2, this.#options.maxSettleMs ?? 10_000),
      stoppedContainers: waitingFor,
    });
  }

  /** Takes service `id` off the queue (it is gone). */
  delete(id: string): void {
    this.#dirty.delete(id);
  }

  /** Reads the due services through `reader` until `signal` aborts. */
  async run(reader: SettleReader, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const now = this.#options.now();
      const due = [...this.#dirty].filter(([id, dirty]) => dirty.dueAt <= now && reader.known(id))
        .map(([id]) => id);
      for (const [id] of this.#dirty) if (!reader.known(id)) this.#dirty.delete(id);
      if (due.length > 0) {
        // Until the read answers, the next read of these waits for their backoff.
        for (const id of due) {
          const dirty = this.#dirty.get(id)!;
          dirty.dueAt = now + dirty.backoffMs;
        }
        try {
          await reader.read(due, signal);
        } catch (error) {
          if (signal.aborted) return;
          logger.debug("reading the tasks of {count} services failed: {error}", {
            count: due.length,
            error: errorMessage(error),
          });
        }
        continue;
      }
      const next = Math.min(...[...this.#dirty.values()].map((dirty) => dirty.dueAt));
      const pause = Number.isFinite(next) ? Math.max(10, next - this.#options.now()) : 60_000;
      await this.#pause(pause, signal);
    }
  }

  /** Waits `ms`, or less when a service is marked or `signal` aborts. */
  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const onAbort = () => done();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = done;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve();
      }
    });
    this.#wake = undefined;
  }
}
