/**
 * One probe of one container, run as the kubelet's prober worker runs it: every
 * `periodSeconds` once `initialDelaySeconds` have passed since the container started,
 * readiness and liveness only after the startup probe passed, the published result
 * changing only after `successThreshold` passes or `failureThreshold` failures in a row,
 * and reset whenever the container starts a new run. A liveness or startup failure holds
 * the worker until the restart it causes has started the next run.
 *
 * Results start as the kubelet's do: readiness failed (not ready until it passes),
 * liveness passed, startup not yet passed. An attempt that cannot run (no route to the
 * pod, no exec) leaves the result as it was, so an unsupported probe never counts as
 * passed.
 *
 * @module
 */

import type { ContainerStatus } from "kubernetes-types/core/v1.d.ts";
import { abortableSleep } from "../sleep.ts";
import type { AttemptResult } from "./prober.ts";
import type { ProbeSpec } from "./probe_spec.ts";

/** A published probe result. */
export type ProbeResult = "success" | "failure" | "unknown";

/** The identity of one run of a container: a restart makes a new one. */
export function runIdOf(status: ContainerStatus | undefined): string | undefined {
  if (status === undefined) return undefined;
  const started = status.state?.running?.startedAt ?? status.state?.terminated?.startedAt ?? "";
  return `${status.containerID ?? ""}|${status.restartCount}|${started}`;
}

/** What a worker asks of its manager. */
export interface WorkerHost {
  /** The container's latest status from the provider, if any. */
  status(): ContainerStatus | undefined;
  /** Whether the container's startup probe has passed for this run (true without one). */
  started(): boolean;
  /** Whether probing pauses (the pod is being deleted). */
  paused(): boolean;
  /** Runs one attempt of the probe. */
  attempt(signal: AbortSignal): Promise<AttemptResult>;
  /** The published result changed. */
  changed(result: ProbeResult): void;
  /** An attempt failed or errored: `message` as the kubelet's event would say it. */
  report(outcome: { kind: "failed" | "errored"; message: string; streak: number }): void;
  /** A liveness or startup probe reached its failure threshold: the container must restart. */
  unhealthy(message: string): void;
  /** Clock in milliseconds. */
  now(): number;
}

/** The initial result of each kind of probe. */
function initialResult(kind: ProbeSpec["kind"]): ProbeResult {
  return kind === "readiness" ? "failure" : kind === "liveness" ? "success" : "unknown";
}

/** Runs one probe until stopped. */
export class ProbeWorker {
  readonly spec: ProbeSpec;
  readonly #host: WorkerHost;
  readonly #stop = new AbortController();
  #runId: string | undefined;
  #result: ProbeResult;
  #lastAttempt: "success" | "failure" | undefined;
  #streak = 0;
  #onHold = false;
  #unsupportedReported = false;

  /** A worker for `spec`; it probes once `start` is called. */
  constructor(spec: ProbeSpec, host: WorkerHost) {
    this.spec = spec;
    this.#host = host;
    this.#result = initialResult(spec.kind);
  }

  /** The published result, and the run it is about. */
  get result(): { result: ProbeResult; runId: string | undefined } {
    return { result: this.#result, runId: this.#runId };
  }

  /** Probes every period until `signal` aborts or `stop` is called; the first attempt at once. */
  async start(signal: AbortSignal, firstDelayMs = 0): Promise<void> {
    // Linked by hand and unlinked at the end: the manager's signal outlives every worker.
    const onAbort = () => this.#stop.abort();
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#loop(this.#stop.signal, firstDelayMs);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async #loop(stop: AbortSignal, firstDelayMs: number): Promise<void> {
    let next = this.#host.now() + firstDelayMs;
    while (!stop.aborted) {
      const wait = next - this.#host.now();
      if (wait > 0) await abortableSleep(wait, stop);
      if (stop.aborted) return;
      next += this.spec.periodMs;
      try {
        await this.probeOnce(stop);
      } catch {
        // A failed attempt is a result; anything else waits for the next period.
      }
      if (next < this.#host.now()) next = this.#host.now() + this.spec.periodMs;
    }
  }

  /**
   * Takes `result` as already reached for the current run (what the API object says of a
   * run that the agent probed before it restarted), so that a restart flaps nothing.
   */
  adopt(result: ProbeResult): void {
    this.#lastAttempt = result === "unknown" ? undefined : result;
    this.#streak = this.#lastAttempt === undefined ? 0 : this.spec.failureThreshold;
    this.#publish(result);
  }

  /** Stops probing. */
  stop(): void {
    this.#stop.abort();
  }

  /** Notes the container's latest status: a new run resets the result at once. */
  observe(status: ContainerStatus | undefined): void {
    const runId = runIdOf(status);
    if (runId === undefined || runId === this.#runId) return;
    this.#runId = runId;
    this.#streak = 0;
    this.#lastAttempt = undefined;
    this.#onHold = false;
    this.#publish(initialResult(this.spec.kind));
  }

  /** One tick of the kubelet's worker: checks the gates, then maybe runs an attempt. */
  async probeOnce(signal: AbortSignal): Promise<void> {
    const status = this.#host.status();
    this.observe(status);
    if (status === undefined || this.#onHold || this.#host.paused()) return;
    const running = status.state?.running;
    if (running === undefined || running === null) {
      if (this.spec.kind === "readiness") this.#publish("failure");
      return;
    }
    const startedAt = running.startedAt === undefined ? 0 : Date.parse(running.startedAt);
    if (this.#host.now() - startedAt < this.spec.initialDelayMs) return;
    const started = this.#host.started();
    if (this.spec.kind === "startup" ? started : !started) return;
    const runId = this.#runId;
    const outcome = await this.#host.attempt(signal);
    if (signal.aborted || runId !== this.#runId || this.#onHold) return;
    if (outcome.result === "error") {
      if (!outcome.unsupported || !this.#unsupportedReported) {
        this.#host.report({ kind: "errored", message: outcome.message, streak: 0 });
      }
      if (outcome.unsupported) this.#unsupportedReported = true;
      return;
    }
    if (outcome.result === this.#lastAttempt) this.#streak++;
    else {
      this.#lastAttempt = outcome.result;
      this.#streak = 1;
    }
    if (outcome.result === "failure") {
      this.#host.report({ kind: "failed", message: outcome.message, streak: this.#streak });
    }
    const threshold = outcome.result === "failure"
      ? this.spec.failureThreshold
      : this.spec.successThreshold;
    if (this.#streak < threshold) return;
    this.#publish(outcome.result);
    if (outcome.result === "failure" && this.spec.kind !== "readiness") {
      this.#onHold = true;
      this.#streak = 0;
      this.#host.unhealthy(outcome.message);
    }
  }

  #publish(result: ProbeResult): void {
    if (result === this.#result) return;
    this.#result = result;
    this.#host.changed(result);
  }
}
