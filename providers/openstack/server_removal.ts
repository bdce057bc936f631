/**
 * What happens to the server of a deleted pod: `delete` (the default: `DELETE
 * /servers/{id}`, which Nova carries out in the background), or releasing it (`keep`, and
 * an evicted pod's `onEvictedPodDelete`): the node and uid tags are removed, so this node
 * no longer lists it and a later pod of the same workload does not adopt it, while the
 * ownership metadata stays for the operator to see whose it was. `stop` powers it off
 * before releasing it.
 *
 * @module
 */

import { anyReplySchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError } from "./errors.ts";
import { uidTag } from "./identity.ts";
import type { TrackedServer } from "./server_tracker.ts";

/** What to do with the server of a deleted pod. */
export type RemovalPolicy = "delete" | "keep" | "stop";

/** Options of {@linkcode removeServer}. */
export interface RemoveServerOptions {
  client: OpenStackClient;
  policy: RemovalPolicy;
  /** This node's tag, removed when the server is released. */
  nodeTag: string;
  /** Writes a line to the server's log. */
  log: (text: string) => void;
  signal: AbortSignal;
}

function gone(error: unknown): boolean {
  return error instanceof OpenStackHttpError && error.status === 404;
}

/** Deletes or releases the server of `tracked` as `options.policy` says. */
export async function removeServer(
  tracked: TrackedServer,
  options: RemoveServerOptions,
): Promise<void> {
  const { client, policy, signal } = options;
  const id = tracked.server.id;
  if (policy === "delete") {
    options.log("delete requested (pod deleted)");
    await client.request("compute", "DELETE", `/servers/${id}`, { schema: anyReplySchema, signal })
      .catch((error) => {
        if (!gone(error)) throw error;
      });
    return;
  }
  if (policy === "stop" && tracked.server.status === "ACTIVE") {
    options.log("stop requested (pod evicted; onEvictedPodDelete: stop)");
    await client.request("compute", "POST", `/servers/${id}/action`, {
      body: { "os-stop": null },
      schema: anyReplySchema,
      retry: "idempotent-or-conflict",
      signal,
    }).catch((error) => {
      if (!(error instanceof OpenStackHttpError && error.status === 409)) throw error;
    });
  }
  for (const tag of [options.nodeTag, await uidTag(tracked.identity.uid)]) {
    await client.request("compute", "DELETE", `/servers/${id}/tags/${encodeURIComponent(tag)}`, {
      schema: anyReplySchema,
      signal,
    }).catch((error) => {
      if (!gone(error)) throw error;
    });
  }
}

/** The log line after {@linkcode removeServer}. */
export function removedText(tracked: TrackedServer, policy: RemovalPolicy): string {
  const { name, id } = tracked.server;
  switch (policy) {
    case "delete":
      return `server ${name} (${id}) deleted`;
    case "keep":
      return `server ${name} (${id}) left running and released (its node and uid tags removed)`;
    case "stop":
      return `server ${name} (${id}) stopped and released (its node and uid tags removed)`;
  }
}
