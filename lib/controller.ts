/**
 * Controllers and the manager that runs them. A controller is one loop of the agent (the
 * node, the pods, the kubelet API, later VirtualMachines, volumes, EndpointSlices): it
 * reads what it needs from the shared informers, starts with the agent's signal and says
 * when it is ready. The manager starts the shared informers and every controller, makes
 * one `ready` of them all, and stops everything once: when the agent's signal aborts, or
 * when a controller fails.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "./errors.ts";
import type { SharedInformerFactory } from "./kube/mod.ts";

/** One loop of the agent. */
export interface Controller {
  /** Short name for logs, such as `pods`. */
  readonly name: string;
  /**
   * Runs until `signal` aborts, then resolves once stopped. Rejects only for a failure the
   * agent cannot go on after (it then stops as a whole).
   */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once the controller does its job (caches synced, start-up reconcile done). */
  readonly ready: Promise<void>;
}

/** A promise with its resolve function, for `ready` of controllers. */
export interface Readiness {
  /** Resolves once `markReady` is called. */
  readonly ready: Promise<void>;
  /** Resolves `ready`; later calls do nothing. */
  markReady(): void;
}

/** A fresh `Readiness`. */
export function readiness(): Readiness {
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  return { ready, markReady };
}

/** Runs the shared informers and a set of controllers as one. */
export class ControllerManager {
  readonly #informers: SharedInformerFactory;
  readonly #controllers: Controller[] = [];
  readonly #log = getLogger(["vkedge", "controllers"]);
  readonly #all = readiness();
  readonly #ended = new Set<string>();
  #stopping = false;

  /** A manager over `informers`; controllers are added with `add` before `run`. */
  constructor(informers: SharedInformerFactory) {
    this.#informers = informers;
  }

  /** The names of the added controllers, in order. */
  get names(): string[] {
    return this.#controllers.map((controller) => controller.name);
  }

  /** The controllers that stopped although the manager was not asked to stop. */
  get stoppedControllers(): string[] {
    return this.#stopping ? [] : [...this.#ended];
  }

  /** Resolves once every controller is ready. */
  get ready(): Promise<void> {
    return this.#all.ready;
  }

  /** Adds a controller; it starts with `run`. */
  add(controller: Controller): void {
    if (this.#controllers.some((known) => known.name === controller.name)) {
      throw new Error(`controller "${controller.name}": expected a unique name, found it twice`);
    }
    this.#controllers.push(controller);
  }

  /**
   * Starts the informers and every controller and resolves once all have stopped after
   * `signal` aborted. When a controller fails, the others are stopped and `run` rejects
   * with that failure.
   */
  async run(signal: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => {
      this.#stopping = true;
      stop.abort(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    let failure: { error: unknown } | undefined;
    this.#informers.start(stop.signal);
    const runs = this.#controllers.map(async (controller) => {
      try {
        await controller.start(stop.signal);
        if (!stop.signal.aborted) this.#ended.add(controller.name);
      } catch (error) {
        this.#ended.add(controller.name);
        if (stop.signal.aborted) return; // stopping anyway: an abort is no failure
        failure = { error };
        this.#log.error("controller {name} failed: {error}; stopping the agent", {
          name: controller.name,
          error: errorMessage(error),
        });
        stop.abort(error);
      }
    });
    void Promise.all(this.#controllers.map((controller) => controller.ready)).then(
      () => this.#all.markReady(),
    );
    try {
      await Promise.all(runs);
      await this.#informers.stopped();
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (failure !== undefined) throw failure.error;
  }
}
