/**
 * Exactly one server per workload. Nova has no idempotency key for `POST /servers`: an
 * agent killed while its create was on the wire may find, after the restart, no server
 * and make a second one, while the first still comes. So a workload UID with two servers
 * keeps the oldest (then the lowest id) and the others are deleted, with a Warning event.
 * This file picks the server to keep and deletes a duplicate; the tracker does the
 * bookkeeping.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import { anyReplySchema, type Server } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError } from "./errors.ts";
import { identityKey, type PodIdentity } from "./identity.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** A listed server and the pod its metadata says it serves. */
export interface OwnedServer {
  server: Server;
  identity: PodIdentity;
}

/** A second server of a workload, and the one kept instead. */
export interface DuplicateServer extends OwnedServer {
  /** The server kept for the same workload UID. */
  keeper: Server;
}

/**
 * Keeps one server per workload UID (the oldest, then the lowest id); the others are
 * returned as duplicates.
 */
export function oneServerPerWorkload(
  ours: OwnedServer[],
): { kept: OwnedServer[]; duplicates: DuplicateServer[] } {
  const byUid = new Map<string, OwnedServer[]>();
  for (const entry of ours) {
    const list = byUid.get(entry.identity.uid) ?? [];
    list.push(entry);
    byUid.set(entry.identity.uid, list);
  }
  const kept: OwnedServer[] = [];
  const duplicates: DuplicateServer[] = [];
  for (const list of byUid.values()) {
    list.sort((a, b) =>
      a.server.created.getTime() - b.server.created.getTime() ||
      a.server.id.localeCompare(b.server.id)
    );
    kept.push(list[0]);
    for (const extra of list.slice(1)) duplicates.push({ ...extra, keeper: list[0].server });
  }
  return { kept, duplicates };
}

/** What the log and the Warning event say about a duplicate being deleted. */
export function duplicateText(duplicate: DuplicateServer): string {
  return `server ${duplicate.server.id} is a second server of workload ${duplicate.identity.uid} (pod ${
    identityKey(duplicate.identity)
  }), made by a create whose answer was lost; deleting it and keeping ${duplicate.keeper.id}`;
}

/**
 * Deletes duplicate server `id` (at most 60 s); resolves `true` once it is gone (deleted,
 * or already absent), `false` when the delete failed and the next poll should try again.
 */
export async function deleteDuplicateServer(client: OpenStackClient, id: string): Promise<boolean> {
  try {
    await client.request("compute", "DELETE", `/servers/${id}`, {
      schema: anyReplySchema,
      signal: AbortSignal.timeout(60_000),
    });
    return true;
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 404) return true;
    logger.warn("deleting duplicate server {id} failed: {error}; trying again on the next poll", {
      id,
      error: errorMessage(error),
    });
    return false;
  }
}
