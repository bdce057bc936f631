/**
 * Writing what a server remembers of its pod: the ownership metadata, the remembered spec
 * and the pod network, all of Nova's metadata of the server in one `PUT
 * /servers/{id}/metadata` (which replaces the whole set, so spec items that are no longer
 * needed go too), keeping metadata vkedge did not write. Nothing is sent when the server
 * already says it all.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { z } from "zod";
import { canonicalJson } from "../../lib/provider_kit/mod.ts";
import type { Server } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { toProviderError } from "./errors.ts";
import {
  METADATA,
  ownerMetadata,
  type PodIdentity,
  serverNameFor,
  type ServerOwner,
} from "./identity.ts";
import { podNetworkKey } from "./server_to_pod.ts";
import { encodePodSpec, isSpecKey } from "./stored_spec.ts";

const metadataReplySchema = z.object({ metadata: z.record(z.string(), z.string()) });

/** Every metadata item of a server of `pod`, over the `existing` ones vkedge did not write. */
export async function desiredMetadata(
  pod: Pod,
  options: {
    identity: PodIdentity;
    owner: ServerOwner;
    existing: Record<string, string>;
    podNetwork?: string;
  },
): Promise<{ metadata: Record<string, string>; partial: boolean }> {
  const owned = new Set<string>([...Object.values(METADATA), podNetworkKey]);
  const kept = Object.fromEntries(
    Object.entries(options.existing).filter(([key]) => !owned.has(key) && !isSpecKey(key)),
  );
  const { items, partial } = await encodePodSpec(pod, options.identity);
  const podNetwork = options.podNetwork ?? options.existing[podNetworkKey];
  return {
    metadata: {
      ...kept,
      ...ownerMetadata(options.identity, options.owner),
      ...(podNetwork ? { [podNetworkKey]: podNetwork } : {}),
      ...items,
    },
    partial,
  };
}

/**
 * Makes the server's metadata remember `pod` (and name the pod `identity` gives, its name
 * too), and returns the server as it is afterwards.
 */
export async function rememberPod(
  client: OpenStackClient,
  server: Server,
  options: { pod: Pod; identity: PodIdentity; owner: ServerOwner; signal: AbortSignal },
): Promise<{ server: Server; partial: boolean }> {
  const { pod, identity, owner, signal } = options;
  const { metadata, partial } = await desiredMetadata(pod, {
    identity,
    owner,
    existing: server.metadata,
  });
  let updated = server;
  try {
    if (canonicalJson(metadata) !== canonicalJson(server.metadata)) {
      const reply = await client.request("compute", "PUT", `/servers/${server.id}/metadata`, {
        body: { metadata },
        schema: metadataReplySchema,
        signal,
      });
      updated = { ...updated, metadata: reply.value.metadata };
    }
    const name = serverNameFor(identity);
    if (server.name !== name) {
      await client.request("compute", "PUT", `/servers/${server.id}`, {
        body: { server: { name } },
        schema: z.unknown(),
        signal,
      });
      updated = { ...updated, name };
    }
  } catch (error) {
    throw toProviderError(
      error,
      `openstack provider: writing the metadata of server ${server.id} (pod ${identity.namespace}/${identity.name})`,
    );
  }
  return { server: updated, partial };
}
