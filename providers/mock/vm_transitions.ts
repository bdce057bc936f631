/**
 * The actions of a mock VM that take time: each is a transition (Starting, Stopping,
 * Rebooting, Migrating) that a timer ends after its delay, started once per transition, so
 * that a repeat, a later action and a VM the state file brings back all wait for the same
 * end. At the end the VM's containers power off or boot again, and the record is saved.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { NotFoundError, UnavailableError } from "../../lib/provider.ts";
import { abortableSleep, errorMessage, podKey } from "../../lib/provider_kit/mod.ts";
import {
  bootContainers,
  type ContainerChangeOptions,
  type PodRecord,
  powerOffContainers,
} from "./pod_records.ts";
import type { VmOperation, VmTransition } from "./state_file.ts";
import { beginTransition, endTransition } from "./virtual_machine.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What {@linkcode VmTransitions} needs of its provider. */
export interface VmTransitionsOptions {
  /** The provider's clock (milliseconds since the epoch). */
  now: () => number;
  /** Aborted when the provider stops; actions in progress stay so (in the state file). */
  stopped: AbortSignal;
  /** The container change options of `record` now (the clock and its usage). */
  changeOptions(record: PodRecord): ContainerChangeOptions;
  /** Saves and reports `record` after its VM changed. */
  changed(record: PodRecord): Promise<void>;
}

/** Resolves with `promise`, or rejects with the reason of `signal` once it aborts. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The text naming the VM of `record` in messages. */
export function vmName(record: PodRecord): string {
  return `the VM ${record.vm.id} of pod ${podKey(record.pod)}`;
}

/** The transitions of the mock's VMs and the timers that end them. */
export class VmTransitions {
  readonly #options: VmTransitionsOptions;
  readonly #transitions = new Map<PodRecord, { transition: VmTransition; done: Promise<void> }>();

  /** No transition yet. */
  constructor(options: VmTransitionsOptions) {
    this.#options = options;
  }

  /** Begins `action`, counts it, saves and reports, then waits for its end. */
  async act(
    record: PodRecord,
    operation: VmOperation,
    options: { action: Omit<VmTransition, "until">; delayMs: number },
    signal: AbortSignal,
  ): Promise<void> {
    const transition = beginTransition(record.vm, options.action, {
      now: this.#options.now(),
      delayMs: options.delayMs,
    });
    record.vm.operations[operation]++;
    logger.debug("{operation} of {vm}: {during} for {delay} ms", {
      operation,
      vm: vmName(record),
      during: transition.during,
      delay: options.delayMs,
    });
    const done = this.schedule(record, transition);
    await this.#options.changed(record);
    await unlessAborted(done, signal);
  }

  /**
   * Waits until the VM of `record` rests (no action in progress), then runs `act` at once,
   * before any other action can begin. When `joins` says that an action in progress is
   * the one asked for, resolves once it ends instead, without `act`.
   */
  async whenResting(
    record: PodRecord,
    signal: AbortSignal,
    act: () => Promise<void>,
    joins?: (transition: VmTransition) => boolean,
  ): Promise<void> {
    signal.throwIfAborted();
    for (let transition = record.vm.transition; transition !== undefined;) {
      await unlessAborted(this.schedule(record, transition), signal);
      if (joins?.(transition)) return;
      transition = record.vm.transition;
    }
    await act();
  }

  /**
   * The end of `transition` of the VM of `record`: a timer that ends it after the rest of
   * its delay, started once. Rejects with `NotFoundError` when the pod is deleted first
   * and `UnavailableError` when the provider stops first (the action stays in progress).
   */
  schedule(record: PodRecord, transition: VmTransition): Promise<void> {
    const pending = this.#transitions.get(record);
    if (pending?.transition === transition) return pending.done;
    const { now, stopped } = this.#options;
    const done = abortableSleep(
      Math.max(0, transition.until - now()),
      AbortSignal.any([record.deleted.signal, stopped]),
    ).then(async () => {
      if (this.#transitions.get(record)?.done === done) this.#transitions.delete(record);
      this.throwIfGone(record, `${transition.during} ended`);
      if (record.vm.transition !== transition) return;
      endTransition(record.vm, now());
      const options = this.#options.changeOptions(record);
      if (transition.during === "Stopping") {
        powerOffContainers(record, {
          ...options,
          message: `mock provider: ${vmName(record)} was stopped`,
        });
      } else if (transition.during !== "Migrating") {
        bootContainers(record, {
          ...options,
          message: `mock provider: ${vmName(record)} was rebooted`,
        });
      }
      await this.saveAfter(record, `${transition.during} ended`);
    });
    done.catch(() => {}); // waiters see the rejection; a timer nobody waits for is fine
    this.#transitions.set(record, { transition, done });
    return done;
  }

  /** Saves `record` after `what` happened; a failure is logged, then thrown. */
  async saveAfter(record: PodRecord, what: string): Promise<void> {
    try {
      await this.#options.changed(record);
    } catch (error) {
      logger.warn("{vm}: {what}, but saving it failed: {error}", {
        vm: vmName(record),
        what,
        error: errorMessage(error),
      });
      throw error;
    }
  }

  /**
   * Throws `NotFoundError` when the pod of `record` was deleted, or `UnavailableError` when
   * the provider stopped, before `what`.
   */
  throwIfGone(record: PodRecord, what: string): void {
    if (record.deleted.signal.aborted) {
      throw new NotFoundError(
        `mock provider: pod ${podKey(record.pod)} and its VM were deleted before ${what}`,
      );
    }
    if (this.#options.stopped.aborted) {
      throw new UnavailableError(
        `mock provider: stopped before ${what} on ${
          vmName(record)
        }; a new instance over the state file finishes it`,
      );
    }
  }
}
