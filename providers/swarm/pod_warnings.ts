/**
 * The Warning events of the swarm provider's pods: one per distinct reason a container
 * cannot run (`FailedScheduling` for a task the Swarm cannot place, `Failed` for an image
 * that cannot be pulled or a container that cannot be created), never repeated while the
 * pod lives.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { PodEventRecorder } from "../../lib/provider.ts";

/** Records each distinct Warning of a pod once. */
export class PodWarnings {
  readonly #record: PodEventRecorder | undefined;
  /** Warnings already recorded, per pod UID, so each is one event. */
  readonly #warned = new Map<string, Set<string>>();

  /** Records through `record`; without one, nothing is recorded. */
  constructor(record: PodEventRecorder | undefined) {
    this.#record = record;
  }

  /** One Warning event per distinct reason a container cannot run (placement, image). */
  warn(pod: Pod): void {
    const record = this.#record;
    const uid = pod.metadata?.uid;
    if (record === undefined || uid === undefined) return;
    for (const status of pod.status?.containerStatuses ?? []) {
      const waiting = status.state?.waiting;
      if (waiting === undefined) continue;
      const reason = waiting.reason === "Unschedulable"
        ? "FailedScheduling"
        : waiting.reason === "ErrImagePull" || waiting.reason === "CreateContainerError"
        ? "Failed"
        : undefined;
      if (reason === undefined) continue;
      const message = `container ${status.name}: ${waiting.message}`;
      const seen = this.#warned.get(uid) ?? new Set<string>();
      if (seen.has(message)) continue;
      seen.add(message);
      this.#warned.set(uid, seen);
      record(pod, "Warning", reason, message);
    }
  }

  /** Forgets the warnings of the pod with `uid` (it was deleted). */
  forget(uid: string): void {
    this.#warned.delete(uid);
  }
}
