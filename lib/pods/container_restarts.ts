/**
 * Restarts of containers, as the kubelet decides them: a container that ended runs again
 * when `restartPolicy` says so (`Always`; `OnFailure` after a non-zero exit; never under
 * `Never`), at once the first time and then after the kubelet's back-off (10 s, doubling
 * to 5 min, reset after a run of 10 min), shown meanwhile as `CrashLoopBackOff`; a liveness
 * or startup probe failure restarts it at once with a `Killing` event (under `Never` the
 * container is ended for good and the pod fails). Restarts go through the provider's
 * `ContainerRestarter`; a provider without it gets one Warning event per container, and
 * the container stays ended. VM-Pods are never restarted here: their VirtualMachine's run
 * strategy decides.
 *
 * @module
 */

import type { ContainerStateTerminated, ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Logger } from "@logtape/logtape";
import { hasContainerRestarter, type Provider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { errorMessage } from "../errors.ts";
import { formatTime } from "../kube/mod.ts";
import type { UnhealthyContainer } from "../probes/mod.ts";
import { type BackOff, podDescription } from "./effective_status.ts";

/** The kubelet's first back-off delay. */
export const INITIAL_BACK_OFF_MS = 10_000;
/** The kubelet's longest back-off delay. */
export const MAX_BACK_OFF_MS = 300_000;
/** A run at least this long resets the back-off. */
const RESET_AFTER_MS = 2 * MAX_BACK_OFF_MS;

interface RestartEntry {
  /** The delay before the next restart. */
  delayMs: number;
  /** When the last restart was asked for. */
  restartedAt: number;
  /** `restartCount` the provider showed when it was asked: until it grows, it is underway. */
  fromCount: number;
  /** Whether a restart call is in flight. */
  inFlight: boolean;
}

/** Options of {@linkcode ContainerRestarts}. */
export interface ContainerRestartsOptions {
  provider: Provider;
  events: EventRecorder;
  log: Logger;
  /** Asks for the pod's status to be computed again (after a restart, when a back-off ends). */
  resync(key: string): void;
  /** Aborting it cancels the timers and restarts in flight. */
  signal: AbortSignal;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/** Whether `restartPolicy` runs a container again that ended with `exitCode`. */
export function restartsAfter(pod: Pod, exitCode: number): boolean {
  const policy = pod.spec?.restartPolicy ?? "Always";
  return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
}

/** The restart bookkeeping of the node's containers. */
export class ContainerRestarts {
  readonly #options: ContainerRestartsOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, RestartEntry>();
  readonly #ended = new Map<string, ContainerStateTerminated>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #warned = new Set<string>();

  /** Bookkeeping that restarts through `options.provider`. */
  constructor(options: ContainerRestartsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    options.signal.addEventListener("abort", () => {
      for (const timer of this.#timers.values()) clearTimeout(timer);
      this.#timers.clear();
    }, { once: true });
  }

  /**
   * The back-off the container of `reported` (the provider's status) is waiting out now,
   * if any; none while a restart is underway.
   */
  backOff(pod: Pod, reported: ContainerStatus): BackOff | undefined {
    const entry = this.#entries.get(this.#id(pod, reported.name));
    if (entry === undefined || entry.inFlight || reported.restartCount <= entry.fromCount) {
      return undefined;
    }
    if (this.#now() - entry.restartedAt >= entry.delayMs) return undefined;
    return { delaySeconds: entry.delayMs / 1000 };
  }

  /** The state of a container the agent ended for good, if any. */
  ended(pod: Pod, container: string): ContainerStateTerminated | undefined {
    return this.#ended.get(this.#id(pod, container));
  }

  /** Forgets a pod's containers (deleted or ended). */
  forget(uid: string): void {
    for (const map of [this.#entries, this.#ended]) {
      for (const id of [...map.keys()]) if (id.startsWith(`${uid}/`)) map.delete(id);
    }
    for (const id of [...this.#warned]) if (id.startsWith(`${uid}/`)) this.#warned.delete(id);
    for (const [id, timer] of this.#timers) {
      if (id.startsWith(`${uid}/`)) {
        clearTimeout(timer);
        this.#timers.delete(id);
      }
    }
  }

  /**
   * Applies the restart policy to the provider's latest container statuses: restarts what
   * ended and may run again, now or once its back-off is over.
   */
  apply(pod: Pod, statuses: ContainerStatus[]): void {
    for (const status of statuses) {
      const terminated = status.state?.terminated;
      if (terminated === undefined || terminated === null) continue;
      const id = this.#id(pod, status.name);
      if (this.#ended.has(id) || !restartsAfter(pod, terminated.exitCode)) continue;
      const entry = this.#entries.get(id);
      if (entry?.inFlight || (entry && status.restartCount <= entry.fromCount)) continue;
      const now = this.#now();
      if (entry !== undefined && now - entry.restartedAt < entry.delayMs) {
        this.#wakeAt(pod, id, entry.restartedAt + entry.delayMs);
        continue;
      }
      const ranMs = Date.parse(terminated.finishedAt ?? "") -
        Date.parse(terminated.startedAt ?? "");
      const delayMs = entry === undefined || ranMs >= RESET_AFTER_MS
        ? INITIAL_BACK_OFF_MS
        : Math.min(entry.delayMs * 2, MAX_BACK_OFF_MS);
      this.#restart(pod, status, {
        reason: `restart policy ${pod.spec?.restartPolicy ?? "Always"}`,
        delayMs: entry === undefined ? INITIAL_BACK_OFF_MS : delayMs,
      });
    }
  }

  /** A liveness or startup probe failed: restart the container at once (or end it under Never). */
  unhealthy(unhealthy: UnhealthyContainer, status: ContainerStatus | undefined): void {
    const { pod, container, kind, spec } = unhealthy;
    const id = this.#id(pod, container);
    const { events } = this.#options;
    if (this.#entries.get(id)?.inFlight || this.#ended.has(id)) return;
    events.record(
      pod,
      "Normal",
      "Killing",
      `Container ${container} failed ${kind} probe, will be restarted`,
    );
    if ((pod.spec?.restartPolicy ?? "Always") === "Never") {
      const now = new Date(this.#now());
      this.#ended.set(id, {
        exitCode: 137,
        reason: "Error",
        message: `container ${container} failed its ${kind} probe and restartPolicy is Never`,
        startedAt: status?.state?.running?.startedAt,
        finishedAt: formatTime(now),
        ...(status?.containerID ? { containerID: status.containerID } : {}),
      });
      this.#options.resync(keyOf(pod));
      return;
    }
    const entry = this.#entries.get(id);
    this.#restart(
      pod,
      status ?? { name: container, image: "", imageID: "", ready: false, restartCount: 0 },
      {
        reason: `failed ${kind} probe`,
        delayMs: entry === undefined
          ? INITIAL_BACK_OFF_MS
          : Math.min(entry.delayMs * 2, MAX_BACK_OFF_MS),
        gracePeriodSeconds: spec.terminationGracePeriodSeconds ??
          pod.spec?.terminationGracePeriodSeconds ?? undefined,
      },
    );
  }

  #id(pod: Pod, container: string): string {
    return `${pod.metadata?.uid ?? ""}/${container}`;
  }

  #wakeAt(pod: Pod, id: string, at: number): void {
    if (this.#timers.has(id) || this.#options.signal.aborted) return;
    const key = keyOf(pod);
    const container = id.slice(id.indexOf("/") + 1);
    this.#options.events.record(
      pod,
      "Warning",
      "BackOff",
      `Back-off restarting failed container ${container} in pod ${podDescription(pod)}`,
    );
    this.#timers.set(
      id,
      setTimeout(() => {
        this.#timers.delete(id);
        this.#options.resync(key);
      }, Math.max(0, at - this.#now()) + 10),
    );
  }

  #restart(
    pod: Pod,
    status: ContainerStatus,
    how: { reason: string; delayMs: number; gracePeriodSeconds?: number },
  ): void {
    const { provider, events, log, signal } = this.#options;
    const key = keyOf(pod);
    const id = this.#id(pod, status.name);
    if (!hasContainerRestarter(provider)) {
      if (!this.#warned.has(id)) {
        this.#warned.add(id);
        events.record(
          pod,
          "Warning",
          "RestartNotSupported",
          `Container ${status.name} ended and ${how.reason} asks for a restart, but provider ${provider.name} cannot restart containers`,
        );
      }
      return;
    }
    const entry: RestartEntry = {
      delayMs: how.delayMs,
      restartedAt: this.#now(),
      fromCount: status.restartCount,
      inFlight: true,
    };
    this.#entries.set(id, entry);
    const ref = {
      namespace: pod.metadata?.namespace ?? "",
      pod: pod.metadata?.name ?? "",
      container: status.name,
    };
    void provider.restartContainer(ref, {
      reason: how.reason,
      ...(how.gracePeriodSeconds === undefined
        ? {}
        : { gracePeriodSeconds: how.gracePeriodSeconds }),
    }, signal).then(() => {
      log.info("pod {pod}: restarted container {container} ({reason})", {
        pod: key,
        container: status.name,
        reason: how.reason,
      });
    }, (error: unknown) => {
      if (signal.aborted) return;
      // Counts as a failed run: the next try waits for the back-off.
      entry.fromCount = -1;
      log.warn("pod {pod}: cannot restart container {container}: {error}", {
        pod: key,
        container: status.name,
        error: errorMessage(error),
      });
      events.record(
        pod,
        "Warning",
        "Failed",
        `Error: cannot restart container ${status.name}: ${errorMessage(error)}`,
      );
    }).finally(() => {
      entry.inFlight = false;
      entry.restartedAt = this.#now();
      this.#options.resync(key);
    });
  }
}
