/**
 * What the VM capabilities (power, snapshots, migration) share: reading a tracked server
 * afresh, waiting until no task runs on it (Nova refuses most actions meanwhile), posting
 * one server action (`POST /servers/{id}/action`, repeated on 409 while another task
 * ends), waiting until the server is where an action should bring it, and the lifecycle
 * line each request leaves in `kubectl logs`.
 *
 * @module
 */

import { InvalidInputError, NotFoundError, UnavailableError } from "../../lib/provider.ts";
import { sleep } from "../../lib/provider_kit/mod.ts";
import { anyReplySchema, type Server, serverReplySchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";
import type { KnownHosts } from "./hosts.ts";
import { identityKey } from "./identity.ts";
import { taskOf } from "./server_to_pod.ts";
import type { ServerTracker, TrackedServer } from "./server_tracker.ts";

/** What the VM capabilities work with. */
export interface ServerActionContext {
  client: OpenStackClient;
  /** This node's servers; every read is observed there. */
  tracker: ServerTracker;
  hosts: KnownHosts;
  /** Clock in milliseconds. */
  now: () => number;
  /** Pause between two reads while waiting. */
  waitIntervalMs: number;
  /** Longest wait for one action. */
  actionTimeoutMs: number;
}

/** Statuses Nova passes through during an action; new actions wait for them to end. */
export const transitionalStatuses: ReadonlySet<string> = new Set([
  "BUILD",
  "REBOOT",
  "HARD_REBOOT",
  "MIGRATING",
  "RESIZE",
  "REVERT_RESIZE",
  "REBUILD",
  "PASSWORD",
]);

/** `server <name> (<id>) of pod <namespace>/<name>`, for messages. */
export function describeServer(tracked: TrackedServer): string {
  return `server ${tracked.server.name} (${tracked.server.id}) of pod ${
    identityKey(tracked.identity)
  }`;
}

/** Appends `text` to the server's log (what `kubectl logs` shows). */
export function logAction(
  context: ServerActionContext,
  tracked: TrackedServer,
  text: string,
): void {
  tracked.log.append(new Date(context.now()), text);
}

/** Reads the server of `tracked` and observes it; `NotFoundError` when it is gone. */
export async function readServer(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<Server> {
  let server: Server;
  try {
    server = (await context.client.request("compute", "GET", `/servers/${tracked.server.id}`, {
      schema: serverReplySchema,
      signal: options.signal,
    })).value.server;
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 404) {
      throw new NotFoundError(
        `${describeServer(tracked)} no longer exists: there is no VM to act on`,
      );
    }
    throw error;
  }
  if (server.status === "DELETED" || server.status === "SOFT_DELETED") {
    throw new NotFoundError(
      `${describeServer(tracked)} is ${server.status}: there is no VM to act on`,
    );
  }
  context.tracker.observe(tracked, server, new Date(context.now()));
  return server;
}

/**
 * Reads the server until `done` says it is where it should be, and returns it. Throws
 * `UnavailableError` after the action timeout, or with the fault when it ends in ERROR.
 */
export async function waitForServer(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { what: string; done: (server: Server) => boolean; signal: AbortSignal },
): Promise<Server> {
  const deadline = context.now() + context.actionTimeoutMs;
  let server = await readServer(context, tracked, options);
  while (!options.done(server)) {
    if (server.status === "ERROR") {
      throw new UnavailableError(
        `${describeServer(tracked)} went to ERROR while ${options.what}${
          server.fault?.message ? `: ${server.fault.message}` : ""
        }`,
      );
    }
    if (context.now() > deadline) {
      throw new UnavailableError(
        `${describeServer(tracked)}: expected it done ${options.what} within ${
          context.actionTimeoutMs / 1000
        } s, found it ${server.status}${taskOf(server) ? ` (${taskOf(server)})` : ""}`,
      );
    }
    await sleep(context.waitIntervalMs, options.signal);
    server = await readServer(context, tracked, options);
  }
  return server;
}

/** Reads the server until no task runs on it and it is in no transitional status. */
export function settleServer(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<Server> {
  return waitForServer(context, tracked, {
    what: "with the task in progress",
    done: (server) => taskOf(server) === undefined && !transitionalStatuses.has(server.status),
    signal: options.signal,
  });
}

/** The action running on each server in this process, by server id. */
const running = new Map<string, Promise<unknown>>();

/**
 * Runs `work` once the actions asked of the same server before it (in this process) have
 * ended, so that two calls at once do not race each other into Nova (which answers the
 * second with a conflict, or worse); each call then finds the server as the one before
 * left it.
 */
export async function oneAtATime<T>(tracked: TrackedServer, work: () => Promise<T>): Promise<T> {
  const id = tracked.server.id;
  const before = running.get(id) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(work);
  const settled = mine.catch(() => undefined);
  running.set(id, settled);
  try {
    return await mine;
  } finally {
    if (running.get(id) === settled) running.delete(id);
  }
}

/**
 * Runs `work` with `statuses` marked as requested on the server, so that entering them is
 * a Normal event rather than a Warning.
 */
export async function requesting<T>(
  tracked: TrackedServer,
  statuses: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  const before = tracked.requestedStates;
  tracked.requestedStates = new Set([...(before ?? []), ...statuses]);
  try {
    return await work();
  } finally {
    tracked.requestedStates = before;
  }
}

/**
 * Posts `{ [action]: params }` to the server, repeated while Nova answers 409 (another
 * task ends first). A 409 that outlasts the repeats says the server's state forbids it:
 * `InvalidInputError` with Nova's message.
 */
export async function postAction(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { action: string; params?: unknown; signal: AbortSignal },
): Promise<void> {
  try {
    await context.client.request("compute", "POST", `/servers/${tracked.server.id}/action`, {
      body: { [options.action]: options.params ?? null },
      schema: anyReplySchema,
      retry: "idempotent-or-conflict",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 409) {
      throw new InvalidInputError(
        `${describeServer(tracked)}: Nova refuses ${options.action} now: ${error.fault.message}`,
        { cause: error },
      );
    }
    throw toProviderError(error, `${describeServer(tracked)}: ${options.action}`);
  }
}
