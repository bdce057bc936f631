/**
 * What `onPodDelete` does to the VM of a deleted pod: destroy it (Permissive) and expunge
 * it (the default), only destroy it (recoverable for ZStack's expunge period), or keep it
 * running and release it by removing this node's tag, so this node no longer lists it.
 * Before a VM is destroyed its data volumes are detached, so that they (PersistentVolumes)
 * outlive it whatever ZStack's `dataVolume.deleteOnVmDestroy` says.
 *
 * @module
 */

import { emptyReplySchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { queryAll, userTags, vmInstances } from "./collections.ts";
import type { PodDeletePolicy } from "./config.ts";
import { detachDataVolumes } from "./data_volumes.ts";
import { notFoundCode, ZStackApiError } from "./errors.ts";
import { eq } from "./query.ts";
import type { TrackedVm } from "./vm_tracker.ts";

/** Options of {@linkcode removeVm}. */
export interface RemoveVmOptions {
  /** The ZStack client. */
  client: ZStackClient;
  /** What to do with the VM. */
  policy: PodDeletePolicy;
  /** This node's tag, removed on `keep`. */
  nodeTag: string;
  /** Writes a line to the VM's lifecycle log. */
  log: (text: string) => void;
  /** Pause between two reads while waiting for the VM to settle before its volumes are detached. */
  waitIntervalMs: number;
  /** Aborts the calls. */
  signal: AbortSignal;
}

/** Destroys, expunges or releases the VM of `tracked` as `options.policy` says. */
export async function removeVm(tracked: TrackedVm, options: RemoveVmOptions): Promise<void> {
  const { client, policy, signal } = options;
  const uuid = tracked.vm.uuid;
  if (policy === "keep") {
    const tags = await queryAll(client, userTags, {
      conditions: [eq("resourceUuid", uuid), eq("tag", options.nodeTag)],
      signal,
    });
    for (const tag of tags) {
      await client.call("DELETE", `/v1/tags/${tag.uuid}`, { schema: emptyReplySchema, signal });
    }
    return;
  }
  if (!["Destroyed", "Expunging"].includes(tracked.vm.state)) {
    await detachDataVolumes(client, uuid, {
      waitIntervalMs: options.waitIntervalMs,
      log: options.log,
      signal,
    });
    options.log("destroy requested (pod deleted)");
    await client.call("DELETE", `${vmInstances.path}/${uuid}`, {
      query: "deleteMode=Permissive",
      schema: emptyReplySchema,
      signal,
    });
  }
  if (policy === "destroy-and-expunge") {
    options.log("expunge requested");
    await client.call("PUT", `${vmInstances.path}/${uuid}/actions`, {
      body: { expungeVmInstance: {} },
      schema: emptyReplySchema,
      signal,
    }).catch((error) => {
      // Already gone (Direct deletion policy, or expunged by someone else).
      if (error instanceof ZStackApiError && error.code === notFoundCode) return;
      throw error;
    });
  }
}

/** The lifecycle line of a VM after `removeVm` (`… destroyed and expunged`). */
export function removedText(tracked: TrackedVm, policy: PodDeletePolicy): string {
  const { name, uuid } = tracked.vm;
  return policy === "keep"
    ? `VM ${name} (${uuid}) left running and released (onPodDelete: keep)`
    : `VM ${name} (${uuid}) ${policy === "destroy" ? "destroyed" : "destroyed and expunged"}`;
}
