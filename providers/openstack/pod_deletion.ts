/**
 * Letting the server of a deleted pod go: as `onPodDelete` says (delete by default), or,
 * for a pod the control plane evicted, as `onEvictedPodDelete` says (never a delete,
 * with a Warning event naming what is left). The pod's terminal status is reported and
 * the tracker forgets it. How a server is deleted or released is `server_removal.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { PodEventRecorder } from "../../lib/provider.ts";
import { evictionOf, workloadUid } from "../../lib/provider_kit/mod.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { type RemovalPolicy, removedText, removeServer } from "./server_removal.ts";
import type { ServerTracker, TrackedServer } from "./server_tracker.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** What {@linkcode deletePodServer} works with. */
export interface DeletePodServerOptions {
  client: OpenStackClient;
  /** This node's servers. */
  tracker: ServerTracker;
  /** Its `onPodDelete` and `onEvictedPodDelete`. */
  config: OpenStackConfig;
  /** This node's tag, removed from a released server. */
  nodeTag: string;
  /** Clock in milliseconds. */
  now: () => number;
  /** Records events about pods. */
  recordEvent?: PodEventRecorder;
  /** Reports the pod status of a server. */
  report: (tracked: TrackedServer) => void;
  signal: AbortSignal;
}

/**
 * Deletes or releases the server of `pod`, reports its terminal status and forgets it.
 * Throws `NotFoundError` when no server serves the pod.
 */
export async function deletePodServer(pod: Pod, options: DeletePodServerOptions): Promise<void> {
  const { client, tracker, config, nodeTag, now, recordEvent, report, signal } = options;
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const key = `${namespace}/${name}`;
  const tracked = await tracker.find(namespace, name, { uid: workloadUid(pod), signal });
  const id = tracked.server.id;
  const eviction = evictionOf(pod);
  const policy: RemovalPolicy = eviction ? config.onEvictedPodDelete : config.onPodDelete;
  tracked.deleting = true;
  try {
    await removeServer(tracked, {
      client,
      policy,
      nodeTag,
      log: (text) => tracked.log.append(new Date(now()), text),
      signal,
    });
  } catch (error) {
    throw toProviderError(error, `openstack provider: deleting server ${id} of pod ${key}`);
  } finally {
    tracked.deleting = undefined;
  }
  const at = new Date(now());
  tracked.deleted = { at, byUs: true, ...(policy === "delete" ? {} : { kept: true }) };
  tracked.log.append(at, removedText(tracked, policy));
  logger.info("pod {pod}: server {id} {what}", {
    pod: key,
    id,
    what: policy === "delete" ? "deleted" : "released",
  });
  if (eviction) {
    const kept = `server ${tracked.server.name} (${id}) is ${
      policy === "stop" ? "stopped" : "left running"
    } and released (onEvictedPodDelete: ${policy}): its node and uid tags are removed, its metadata still names the pod; delete it, or start it again, with the openstack CLI`;
    recordEvent?.(
      pod,
      "Warning",
      "EvictedPodServerKept",
      `Pod evicted by the control plane (${eviction.reason}: ${eviction.message}); ${kept}`,
    );
    logger.warn("pod {pod} was evicted ({reason}); {kept}", {
      pod: key,
      reason: eviction.reason,
      kept,
    });
  }
  report(tracked);
  tracker.setReleased(id);
  tracker.forget(tracked);
}
