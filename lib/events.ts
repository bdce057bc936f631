/**
 * Records core/v1 Events about pods and the node, as the kubelet does, so
 * that `kubectl describe` and `kubectl get events` show what the agent did.
 * Repeats of the same event within ten minutes bump `count` instead of
 * creating a new object. Events are `background` requests of the client: they go once
 * the writes that matter (pod status, above all) are done, and never delay them.
 *
 * @module
 */

import type { Event, ObjectReference } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { EVENTS, KubeAlreadyExistsError, type KubeClient, KubeNotFoundError } from "./kube/mod.ts";
import { errorMessage } from "./errors.ts";

/** Normal or Warning, as in the Events API. */
export type EventType = "Normal" | "Warning";

/** An object an event can be about. */
export interface EventTarget {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

/** Writes Events from one component (such as `vkedge`) on one host (the node). */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #host: string;
  readonly #recent = new Map<string, Recorded>();
  /** Makes the names of events recorded in the same millisecond differ. */
  #sequence = 0;
  readonly #log = getLogger(["vkedge", "events"]);

  /** `component` and `host` become the event's `source` and `reportingController/Instance`. */
  constructor(client: KubeClient, options: { component: string; host: string }) {
    this.#client = client.withPriority("background");
    this.#component = options.component;
    this.#host = options.host;
  }

  /** Records an event without waiting; failures are logged, never thrown. */
  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    this.recordAndWait(target, type, reason, message).catch((error: unknown) => {
      this.#log.warn("cannot record event {reason} on {object}: {error}", {
        reason,
        object: describe(target),
        error: errorMessage(error),
      });
    });
  }

  /** Records an event and resolves when the API server has it. */
  async recordAndWait(
    target: EventTarget,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    const involved = reference(target);
    const namespace = involved.namespace || "default";
    const key = [involved.uid, involved.name, namespace, type, reason, message].join("\u0000");
    const now = new Date();
    const stamp = now.toISOString().replace(/\.\d+Z$/, "Z");
    const events = this.#client.resource<Event>(EVENTS, namespace);
    const previous = this.#recent.get(key);
    if (previous && now.getTime() - previous.lastSeen < AGGREGATE_WINDOW_MS) {
      previous.count++;
      previous.lastSeen = now.getTime();
      try {
        await events.patch(previous.name, { count: previous.count, lastTimestamp: stamp }, {
          type: "merge",
        });
        return;
      } catch (error) {
        if (!(error instanceof KubeNotFoundError)) throw error;
        this.#recent.delete(key);
      }
    }
    // Like client-go's `<name>.<UnixNano hex>`: the milliseconds, then a per-recorder sequence
    // in the nanosecond digits, so two events of one object in one millisecond never share a
    // name. Another process may still have taken it: then once more with the next number.
    const event = (name: string): Event => ({
      metadata: { name, namespace },
      involvedObject: involved,
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.#component, host: this.#host },
      reportingComponent: this.#component,
      reportingInstance: this.#host,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    });
    let name = this.#eventName(involved.name ?? "", now);
    try {
      await events.create(event(name));
    } catch (error) {
      if (!(error instanceof KubeAlreadyExistsError)) throw error;
      name = this.#eventName(involved.name ?? "", new Date());
      await events.create(event(name));
    }
    if (this.#recent.size >= MAX_REMEMBERED) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    this.#recent.set(key, {
      name,
      namespace,
      count: 1,
      firstTimestamp: stamp,
      lastSeen: now.getTime(),
    });
  }

  /** `<object>.<hex>`: `at` in nanoseconds, the low digits a sequence of this recorder. */
  #eventName(object: string, at: Date): string {
    this.#sequence = (this.#sequence + 1) % 1_000_000;
    const nanos = BigInt(at.getTime()) * 1_000_000n + BigInt(this.#sequence);
    return `${object}.${nanos.toString(16)}`;
  }
}

function reference(target: EventTarget): ObjectReference {
  return {
    apiVersion: target.apiVersion ?? "v1",
    kind: target.kind,
    name: target.metadata?.name,
    namespace: target.metadata?.namespace,
    uid: target.metadata?.uid,
    resourceVersion: target.metadata?.resourceVersion,
  };
}

function describe(target: EventTarget): string {
  const meta = target.metadata ?? {};
  return `${target.kind ?? "object"} ${meta.namespace ? `${meta.namespace}/` : ""}${meta.name}`;
}
