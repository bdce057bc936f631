/**
 * Resolves a validated pod into everything its `CreateVmInstance` needs: the placement
 * (configured, or a VM-Pod's placement hints over it), the image, the L3 networks
 * (annotation or default), the instance offering or the size, and the cloud-init user
 * data. Lookups go through the name resolver, so a burst of
 * creates asks ZStack once per name.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError, ProviderError } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import type { L3Network } from "./api_types.ts";
import type { ZStackConfig } from "./config.ts";
import { identityKey, type VmOwner } from "./identity.ts";
import type { NameResolver } from "./name_resolver.ts";
import {
  instanceOfferingAnnotation,
  networkRefsOf,
  placementHintsOf,
  type ValidatedPod,
  type VmRequest,
  vmSizeOf,
} from "./pod_to_vm.ts";
import { buildUserData } from "./user_data.ts";

/** What {@linkcode resolveVmRequest} needs besides the pod. */
export interface ResolveVmRequestOptions {
  /** The pod as validated. */
  validated: ValidatedPod;
  /** The VM uuid. */
  uuid: string;
  /** The remembered pod spec. */
  description: string;
  /** Cluster and node of the VM. */
  owner: VmOwner;
  /** The provider configuration (networks, defaults). */
  config: ZStackConfig;
  /** Resolves names to inventories. */
  resolver: NameResolver;
  /** Aborts the lookups. */
  signal: AbortSignal;
}

/**
 * The VM request for `pod`. Throws `InvalidInputError` for a name that resolves to
 * nothing usable or user data that cannot be built.
 */
export async function resolveVmRequest(
  pod: Pod,
  options: ResolveVmRequestOptions,
): Promise<VmRequest> {
  const { validated, config, resolver, signal } = options;
  const { identity, container } = validated;
  const key = identityKey(identity);
  const lookup = { pod: key, signal };
  const placement = await resolver.podPlacement(placementHintsOf(pod), lookup);
  const image = await resolver.image(validated.image, lookup);
  const networkRefs = networkRefsOf(pod) ?? config.networks.default;
  const networks: L3Network[] = [];
  for (const ref of networkRefs) networks.push(await resolver.l3Network(ref, lookup));
  const offeringRef = pod.metadata?.annotations?.[instanceOfferingAnnotation];
  const size = vmSizeOf(container, config.defaults);
  const useOffering = offeringRef ?? (size.explicit ? undefined : config.defaults.instanceOffering);
  const offering = useOffering === undefined
    ? undefined
    : await resolver.instanceOffering(useOffering, lookup);
  let userData: string;
  try {
    userData = buildUserData({ pod, container });
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw new InvalidInputError(`creating VM for pod ${key}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return {
    identity,
    owner: options.owner,
    uuid: options.uuid,
    description: options.description,
    image,
    networks,
    placement,
    ...(offering === undefined ? {} : { offering }),
    size,
    userData,
  };
}
