/**
 * The probes of every pod on the node: one worker per probe of each app container, made
 * when the pod is first seen and stopped when it goes or ends. It tells the pod controller
 * what the status needs (`view`: whether a container has started and is ready, for the
 * containers that have such probes), calls back when a result changed (the only time the
 * status may need a write), and when a liveness or startup probe failed (the container
 * must restart). Failed attempts become `Unhealthy` events in the kubelet's words; a probe
 * that keeps failing repeats its event at most every five minutes once its result has
 * turned, as the kubelet's event spam filter lets through, so a steady state writes
 * nothing.
 *
 * @module
 */

import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { Provider } from "../provider.ts";
import { runProbeAttempt } from "./prober.ts";
import { type ProbeKind, type ProbeSpec, probeSpecsOf, probeTitle } from "./probe_spec.ts";
import { type ProbeResult, ProbeWorker, runIdOf } from "./worker.ts";

/** How often a probe that keeps failing repeats its event. */
const REPEAT_EVENT_MS = 5 * 60_000;

/** Records an event about a pod. */
export type ProbeEventRecorder = (
  pod: Pod,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
) => void;

/** A liveness or startup probe that reached its failure threshold. */
export interface UnhealthyContainer {
  /** The pod as last seen. */
  pod: Pod;
  /** The container's name. */
  container: string;
  kind: Exclude<ProbeKind, "readiness">;
  /** The probe, for its `terminationGracePeriodSeconds`. */
  spec: ProbeSpec;
  /** The last failure's message. */
  message: string;
}

/** Options of {@linkcode ProbeManager}. */
export interface ProbeManagerOptions {
  provider: Provider;
  /** Records the `Unhealthy` events. */
  recordEvent: ProbeEventRecorder;
  /** A readiness or startup result of the pod `namespace/name` changed. */
  onChange(key: string): void;
  /** A liveness or startup probe failed: the container must be restarted. */
  onUnhealthy(unhealthy: UnhealthyContainer): void;
  /** Aborting it stops every worker. */
  signal: AbortSignal;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** What the probes say about one container, for its status. */
export interface ProbeView {
  /** Set when it has a startup probe: whether it passed for the current run. */
  started?: boolean;
  /** Set when it has a readiness probe: whether it passes for the current run. */
  ready?: boolean;
}

interface PodProbes {
  pod: Pod;
  statuses: Map<string, ContainerStatus>;
  workers: Map<string, ProbeWorker>;
}

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/** Runs the probes of the node's pods. */
export class ProbeManager {
  readonly #options: ProbeManagerOptions;
  readonly #pods = new Map<string, PodProbes>();
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #lastEvent = new Map<string, number>();
  readonly #log = getLogger(["vkedge", "probes"]);

  /** A manager whose workers run until `options.signal` aborts. */
  constructor(options: ProbeManagerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** How many probe workers run. */
  get workerCount(): number {
    let count = 0;
    for (const entry of this.#pods.values()) count += entry.workers.size;
    return count;
  }

  /**
   * Keeps the probes of `pod` running, with `statuses` (the provider's latest container
   * statuses) as what they see; a pod without probes costs nothing.
   */
  sync(pod: Pod, statuses: ContainerStatus[] | undefined): void {
    const uid = pod.metadata?.uid ?? "";
    let entry = this.#pods.get(uid);
    if (entry === undefined) {
      const specs = (pod.spec?.containers ?? []).flatMap((container) =>
        probeSpecsOf(container).map((spec) => ({ container: container.name, spec }))
      );
      if (specs.length === 0) return;
      entry = { pod, statuses: new Map(), workers: new Map() };
      this.#pods.set(uid, entry);
      for (const { container, spec } of specs) this.#startWorker(entry, container, spec);
    }
    entry.pod = pod;
    for (const status of statuses ?? []) entry.statuses.set(status.name, status);
    for (const [id, worker] of entry.workers) {
      worker.observe(entry.statuses.get(id.slice(0, id.lastIndexOf("/"))));
    }
  }

  /** Takes the pod object as it is now (its IP, its deletion) for a pod already probed. */
  refresh(pod: Pod): void {
    const entry = this.#pods.get(pod.metadata?.uid ?? "");
    if (entry !== undefined) entry.pod = pod;
  }

  /** Stops the probes of the pod with `uid` (deleted, or ended). */
  remove(uid: string): void {
    const entry = this.#pods.get(uid);
    if (entry === undefined) return;
    for (const worker of entry.workers.values()) worker.stop();
    this.#pods.delete(uid);
    for (const key of this.#lastEvent.keys()) {
      if (key.startsWith(`${uid}/`)) this.#lastEvent.delete(key);
    }
  }

  /** Stops every pod's probes whose UID is not in `uids`. */
  retain(uids: Set<string>): void {
    for (const uid of [...this.#pods.keys()]) if (!uids.has(uid)) this.remove(uid);
  }

  /** What the probes say about `container` of the pod with `uid` for its current run. */
  view(uid: string, container: string, status: ContainerStatus | undefined): ProbeView {
    const entry = this.#pods.get(uid);
    if (entry === undefined) return {};
    const runId = runIdOf(status);
    const passed = (kind: ProbeKind): boolean | undefined => {
      const worker = entry.workers.get(`${container}/${kind}`);
      if (worker === undefined) return undefined;
      const { result, runId: about } = worker.result;
      return about === runId && result === "success";
    };
    const view: ProbeView = {};
    const started = passed("startup");
    if (started !== undefined) view.started = started;
    const ready = passed("readiness");
    if (ready !== undefined) view.ready = ready && started !== false;
    return view;
  }

  #startWorker(entry: PodProbes, container: string, spec: ProbeSpec): void {
    const id = `${container}/${spec.kind}`;
    const uid = entry.pod.metadata?.uid ?? "";
    const eventKey = `${uid}/${id}`;
    const worker: ProbeWorker = new ProbeWorker(spec, {
      status: () => entry.statuses.get(container),
      started: () => {
        const startup = entry.workers.get(`${container}/startup`);
        return startup === undefined || startup.result.result === "success";
      },
      paused: () =>
        entry.pod.metadata?.deletionTimestamp !== undefined &&
        entry.pod.metadata?.deletionTimestamp !== null,
      attempt: (signal) =>
        runProbeAttempt(
          { provider: this.#options.provider, pod: entry.pod, container },
          spec,
          signal,
        ),
      changed: (result: ProbeResult) => {
        this.#log.debug("{kind} probe of {pod} container {container}: {result}", {
          kind: spec.kind,
          pod: keyOf(entry.pod),
          container,
          result,
        });
        if (spec.kind === "readiness" || spec.kind === "startup") {
          this.#options.onChange(keyOf(entry.pod));
          // Readiness waits for the startup probe: its view changes with it.
        }
      },
      report: ({ kind, message, streak }) => {
        const now = this.#now();
        const last = this.#lastEvent.get(eventKey);
        const building = kind === "failed" && streak <= spec.failureThreshold;
        if (!building && last !== undefined && now - last < REPEAT_EVENT_MS) return;
        this.#lastEvent.set(eventKey, now);
        const title = probeTitle(spec.kind);
        this.#options.recordEvent(
          entry.pod,
          "Warning",
          "Unhealthy",
          kind === "failed"
            ? `${title} probe failed: ${message}`
            : `${title} probe errored and resulted in unknown state: ${message}`,
        );
      },
      unhealthy: (message) => {
        if (spec.kind === "readiness") return;
        this.#options.onUnhealthy({ pod: entry.pod, container, kind: spec.kind, spec, message });
      },
      now: this.#now,
    });
    entry.workers.set(id, worker);
    worker.observe(entry.statuses.get(container));
    // A run the API object already shows started or ready (probed before an agent restart)
    // keeps that result until a probe says otherwise.
    const recorded = entry.pod.status?.containerStatuses?.find((each) => each.name === container);
    if (recorded !== undefined && runIdOf(recorded) === worker.result.runId) {
      if (spec.kind === "readiness" && recorded.ready) worker.adopt("success");
      if (spec.kind === "startup" && recorded.started) worker.adopt("success");
    }
    // Right after the agent started, spread the first attempts over one period, as the
    // kubelet does; a pod that arrives later is probed at once.
    const justStarted = this.#now() - this.#startedAt < spec.periodMs;
    const firstDelay = justStarted ? Math.floor(Math.random() * spec.periodMs) : 0;
    void worker.start(this.#options.signal, firstDelay);
  }
}
