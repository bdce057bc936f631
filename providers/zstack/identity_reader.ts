/**
 * Which pod each of this node's VMs serves, read from their ownership user tags with one
 * tag query per 100 VMs. A ZStack without the user tag query (HTTP 404) is remembered,
 * and from then on the pod is read from the VM description: the node tag the VM list was
 * queried by already proved ownership.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { UserTag, VmInstance } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { queryAll, userTags, uuidsPerQuery } from "./collections.ts";
import { toProviderError, ZStackHttpError } from "./errors.ts";
import { identityFromTags, type PodIdentity } from "./identity.ts";
import { eq, isIn } from "./query.ts";
import { decodePodSpec } from "./stored_spec.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** Reads the pod identities of VMs. */
export class IdentityReader {
  readonly #client: ZStackClient;
  readonly #nodeTag: string;
  #userTagsUnsupported = false;

  /** `nodeTag` is the tag the VMs were listed by, named in warnings. */
  constructor(client: ZStackClient, nodeTag: string) {
    this.#client = client;
    this.#nodeTag = nodeTag;
  }

  /** Identities of `vms` by VM uuid; VMs without identity tags are left out (and logged). */
  async read(vms: VmInstance[], signal: AbortSignal): Promise<Map<string, PodIdentity>> {
    if (vms.length === 0) return new Map();
    if (!this.#userTagsUnsupported) {
      try {
        return await this.#fromTags(vms, signal);
      } catch (error) {
        if (!(error instanceof ZStackHttpError && error.status === 404)) {
          throw toProviderError(error, "zstack provider: reading VM user tags");
        }
        logger.warn(
          "ZStack at {endpoint} has no user tag query; reading identities from VM descriptions",
          { endpoint: this.#client.endpoint },
        );
        this.#userTagsUnsupported = true;
      }
    }
    const result = new Map<string, PodIdentity>();
    for (const vm of vms) {
      const stored = await decodePodSpec(vm.description);
      if (stored !== undefined) {
        result.set(vm.uuid, { namespace: stored.namespace, name: stored.name, uid: stored.uid });
      }
    }
    return result;
  }

  async #fromTags(vms: VmInstance[], signal: AbortSignal): Promise<Map<string, PodIdentity>> {
    const tags: UserTag[] = [];
    for (let index = 0; index < vms.length; index += uuidsPerQuery) {
      const uuids = vms.slice(index, index + uuidsPerQuery).map((vm) => vm.uuid);
      tags.push(
        ...await queryAll(this.#client, userTags, {
          conditions: [isIn("resourceUuid", uuids), eq("resourceType", "VmInstanceVO")],
          signal,
        }),
      );
    }
    const byVm = new Map<string, string[]>();
    for (const tag of tags) {
      const list = byVm.get(tag.resourceUuid) ?? [];
      list.push(tag.tag);
      byVm.set(tag.resourceUuid, list);
    }
    const result = new Map<string, PodIdentity>();
    for (const vm of vms) {
      const identity = identityFromTags(byVm.get(vm.uuid) ?? []);
      if (identity !== undefined) result.set(vm.uuid, identity);
      else {
        logger.warn("VM {uuid} carries tag {tag} but no pod identity tags; ignored", {
          uuid: vm.uuid,
          tag: this.#nodeTag,
        });
      }
    }
    return result;
  }
}
