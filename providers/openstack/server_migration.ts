/**
 * Migration of the server behind a pod (`VirtualMachineMigration`): live (`os-migrateLive`
 * with `block_migration: "auto"`, the guest runs throughout) or cold (`migrate`, then
 * `confirmResize`: a short power cycle), as the configuration says. The candidates are
 * the compute hosts Nova lists as up and enabled, but the server's own (listing them
 * takes credentials the cloud's policy lets list hypervisors, by default an admin's). A
 * migration in progress when asked (an agent restart) is waited for, not repeated; a
 * server already on the target host is left there. A migration Nova could not carry out
 * (the scheduler found no host, a pre-check failed) is refused with Nova's reason.
 *
 * @module
 */

import { InvalidInputError, ResourceExhaustedError, UnavailableError } from "../../lib/provider.ts";
import { z } from "zod";
import type { Server } from "./api_types.ts";
import { toProviderError } from "./errors.ts";
import {
  describeServer,
  logAction,
  oneAtATime,
  postAction,
  readServer,
  requesting,
  type ServerActionContext,
  settleServer,
  waitForServer,
} from "./server_action.ts";
import { hostOf, taskOf } from "./server_to_pod.ts";
import type { TrackedServer } from "./server_tracker.ts";

/** How servers move. */
export type MigrationKind = "live" | "cold";

const migrationListSchema = z.object({
  migrations: z.array(
    z.object({
      status: z.string(),
      source_compute: z.string().nullish(),
      dest_compute: z.string().nullish(),
      migration_type: z.string().nullish(),
      created_at: z.string().nullish(),
    }).passthrough(),
  ),
});

/** The names of the hosts the server can move to now (none when it is not ACTIVE). */
export async function migrationTargets(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<string[]> {
  try {
    const server = await readServer(context, tracked, options);
    if (server.status !== "ACTIVE") return [];
    await context.hosts.refresh(options.signal, { force: true });
    if (!context.hosts.visible) {
      throw new InvalidInputError(
        `openstack provider: cannot list migration targets of ${
          describeServer(tracked)
        }: the cloud's policy does not let these credentials list Nova's hypervisors (usually admin only); use admin credentials, or set migration: off`,
      );
    }
    const current = hostOf(server);
    return context.hosts.all()
      .filter((host) =>
        host.name !== current && host.state !== "down" && host.status !== "disabled"
      )
      .map((host) => host.name)
      .sort();
  } catch (error) {
    throw toProviderError(
      error,
      `openstack provider: listing migration targets of ${describeServer(tracked)}`,
    );
  }
}

/** Why the last migration of `server` failed, from Nova's migration records (admin). */
async function lastFailure(
  context: ServerActionContext,
  server: Server,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    const reply = await context.client.request("compute", "GET", "/os-migrations", {
      query: { instance_uuid: server.id },
      schema: migrationListSchema,
      signal,
    });
    const last = reply.value.migrations
      .sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? ""))[0];
    if (last === undefined || !["error", "failed", "cancelled"].includes(last.status)) {
      return undefined;
    }
    return `Nova's ${last.migration_type ?? ""} migration from ${last.source_compute ?? "?"} to ${
      last.dest_compute ?? "(the scheduler's pick)"
    } ended ${last.status}`;
  } catch {
    return undefined;
  }
}

/**
 * Moves the server to `targetHost` (a candidate's name) or to the host Nova's scheduler
 * picks, and resolves with the name of the host it runs on afterwards.
 * `InvalidInputError` for an unknown target or a server that is not ACTIVE,
 * `ResourceExhaustedError` (`capacity`) when Nova could not move it.
 */
export function migrate(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { targetHost?: string; kind: MigrationKind; signal: AbortSignal },
): Promise<string> {
  return oneAtATime(tracked, () => move(context, tracked, options));
}

async function move(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { targetHost?: string; kind: MigrationKind; signal: AbortSignal },
): Promise<string> {
  const { targetHost, kind, signal } = options;
  const what = describeServer(tracked);
  try {
    const before = await readServer(context, tracked, { signal });
    const inProgress = ["MIGRATING", "RESIZE", "VERIFY_RESIZE"].includes(before.status) ||
      taskOf(before) === "migrating";
    const source = hostOf(before);
    if (inProgress) {
      // Asked before (an agent restart): wait for it, then confirm a cold one.
      const moved = await finish(context, tracked, { kind, signal });
      const host = hostOf(moved);
      if (host !== undefined && (targetHost === undefined || host === targetHost)) return host;
    }
    const server = await settleServer(context, tracked, { signal });
    const current = hostOf(server);
    if (targetHost !== undefined && current === targetHost) return current;
    if (server.status !== "ACTIVE") {
      throw new InvalidInputError(
        `openstack provider: cannot migrate ${what}: expected it ACTIVE, found it ${server.status}; only a running VM is migrated`,
      );
    }
    const candidates = await migrationTargets(context, tracked, { signal });
    if (targetHost !== undefined && !candidates.includes(targetHost)) {
      throw new InvalidInputError(
        `openstack provider: cannot migrate ${what} to host "${targetHost}": ${
          context.hosts.get(targetHost)
            ? "it cannot take the server now"
            : "Nova has no such compute host"
        }; expected one of the candidates: ${candidates.join(", ") || "none"}`,
      );
    }
    if (candidates.length === 0) {
      throw new ResourceExhaustedError(
        `openstack provider: cannot migrate ${what} from host ${
          current ?? "(unknown)"
        }: Nova lists no other compute host that is up and enabled`,
        { resource: "capacity" },
      );
    }
    logAction(
      context,
      tracked,
      `${kind} migration requested from host ${current ?? source ?? "(unknown)"} to ${
        targetHost === undefined ? "the host Nova's scheduler picks" : `host ${targetHost}`
      }`,
    );
    const moved = await requesting(
      tracked,
      ["MIGRATING", "RESIZE", "VERIFY_RESIZE", "ACTIVE", "SHUTOFF"],
      async () => {
        if (kind === "live") {
          await postAction(context, tracked, {
            action: "os-migrateLive",
            params: { host: targetHost ?? null, block_migration: "auto" },
            signal,
          });
        } else {
          await postAction(context, tracked, {
            action: "migrate",
            params: targetHost === undefined ? null : { host: targetHost },
            signal,
          });
        }
        return await finish(context, tracked, { kind, signal });
      },
    );
    const host = hostOf(moved);
    if (host === undefined || host === current) {
      const reason = await lastFailure(context, moved, signal);
      throw new ResourceExhaustedError(
        `openstack provider: migrating ${what}: the server is still on host ${
          current ?? "(unknown)"
        }${reason ? `: ${reason}` : ""}`,
        { resource: "capacity" },
      );
    }
    logAction(context, tracked, `migrated from host ${current} to host ${host}`);
    return host;
  } catch (error) {
    throw toProviderError(error, `openstack provider: migrating ${what}`);
  }
}

/** Waits until a migration ends (a cold one confirmed) and returns the server then. */
async function finish(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { kind: MigrationKind; signal: AbortSignal },
): Promise<Server> {
  const { signal } = options;
  const settled = (s: Server) =>
    taskOf(s) === undefined && ["ACTIVE", "SHUTOFF", "VERIFY_RESIZE", "ERROR"].includes(s.status);
  let server = await waitForServer(context, tracked, { what: "migrating", done: settled, signal });
  if (server.status === "VERIFY_RESIZE") {
    await postAction(context, tracked, { action: "confirmResize", signal });
    server = await waitForServer(context, tracked, {
      what: "confirming the migration",
      done: (s) => taskOf(s) === undefined && ["ACTIVE", "SHUTOFF"].includes(s.status),
      signal,
    });
  }
  if (server.status === "ERROR") {
    throw new UnavailableError(
      `${describeServer(tracked)} went to ERROR while migrating${
        server.fault?.message ? `: ${server.fault.message}` : ""
      }`,
    );
  }
  return server;
}
