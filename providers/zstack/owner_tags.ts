/**
 * Moving a VM to the pod that now serves its workload. A VirtualMachine's VM-Pod can be
 * re-created under another name; the new pod adopts the VM by its uuid (derived from the
 * workload UID), and its namespace and pod tags, which a restarted agent reads the pod
 * identity from, are rewritten to name the new pod, and the VM renamed after it. The new
 * tag is added before the old one is removed, so the VM never lacks one.
 *
 * @module
 */

import {
  inventoryReplySchema,
  userTagSchema,
  type VmInstance,
  vmInstanceSchema,
} from "./api_types.ts";
import { emptyReplySchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { queryAll, userTags, vmInstances } from "./collections.ts";
import { toProviderError } from "./errors.ts";
import { type PodIdentity, tagPrefix, vmNameForPod } from "./identity.ts";
import { eq } from "./query.ts";

/** The tags that name the pod (the workload UID tag stays as it is). */
const podTagKeys = ["namespace", "pod"] as const;

/**
 * Rewrites the namespace and pod tags of `vm` to name `identity`, and renames the VM,
 * when they name another pod; returns the VM as it is afterwards. One tag query when
 * nothing needs to change.
 */
export async function rebindOwnerTags(
  client: ZStackClient,
  vm: VmInstance,
  options: { identity: PodIdentity; signal: AbortSignal },
): Promise<VmInstance> {
  const { identity, signal } = options;
  try {
    const tags = await queryAll(client, userTags, {
      conditions: [eq("resourceUuid", vm.uuid), eq("resourceType", "VmInstanceVO")],
      signal,
    });
    const wanted = { namespace: identity.namespace, pod: identity.name };
    for (const key of podTagKeys) {
      const prefix = `${tagPrefix}${key}:`;
      const tag = `${prefix}${wanted[key]}`;
      const current = tags.filter((candidate) => candidate.tag.startsWith(prefix));
      if (current.length === 1 && current[0].tag === tag) continue;
      if (!current.some((candidate) => candidate.tag === tag)) {
        await client.call("POST", userTags.path, {
          body: { params: { resourceType: "VmInstanceVO", resourceUuid: vm.uuid, tag } },
          schema: inventoryReplySchema(userTagSchema),
          signal,
        });
      }
      for (const stale of current.filter((candidate) => candidate.tag !== tag)) {
        await client.call("DELETE", `/v1/tags/${stale.uuid}`, { schema: emptyReplySchema, signal });
      }
    }
    const name = vmNameForPod(identity);
    if (vm.name === name) return vm;
    const reply = await client.call("PUT", `${vmInstances.path}/${vm.uuid}/actions`, {
      body: { updateVmInstance: { name } },
      schema: inventoryReplySchema(vmInstanceSchema),
      signal,
    });
    return reply.inventory;
  } catch (error) {
    throw toProviderError(
      error,
      `zstack provider: moving VM ${vm.uuid} to pod ${identity.namespace}/${identity.name}`,
    );
  }
}
