/**
 * What the client tests share: reply shapes from the ZStack API reference (a VM, a
 * login, an invalid session), a client with short backoffs for a replay server, and the
 * value of one sample of the agent's metrics, read from the Prometheus text exposition.
 *
 * @module
 */

import { metricsRegistry } from "../../../lib/metrics/mod.ts";
import { queryReplySchema, zoneOrClusterSchema } from "../../../providers/zstack/api_types.ts";
import { ZStackClient, type ZStackClientOptions } from "../../../providers/zstack/client.ts";
import { json, type Received } from "./_replay_server.ts";

/** A signal that never aborts. */
export const signal: AbortSignal = new AbortController().signal;

/** A VM inventory as Gson writes it (doubles, a zone-less date). */
export const vm = {
  uuid: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
  name: "vm1",
  state: "Running",
  cpuNum: 1.0,
  memorySize: 8.589934592E9,
  createDate: "Jun 7, 2017 9:20:28 PM",
  vmNics: [{ ip: "10.0.0.5", l3NetworkUuid: "l3" }],
};

/** The reply of `logInByAccount`. */
export const loginReply = {
  inventory: {
    uuid: "5e0b4ecbd5e04e3aa2f8b2f6c8b4a7a1",
    accountUuid: "36c27e8ff05c4780bf6d2fa65700f22e",
    userUuid: "36c27e8ff05c4780bf6d2fa65700f22e",
    expiredDate: "Nov 25, 2026 12:00:00 PM",
    createDate: "Nov 25, 2026 10:00:00 AM",
  },
};

/** The 503 body of a request with an expired session. */
export const invalidSession = {
  error: {
    code: "ID.1001",
    description: "The session is invalid, either wrong session id or the session has been expired",
    details: "Session expired",
  },
};

/** A client of `url` logging in as admin, with backoffs and poll pauses of a few ms. */
export function client(url: string, extra: Partial<ZStackClientOptions> = {}): ZStackClient {
  return new ZStackClient({
    endpoint: url,
    credentials: { kind: "account", accountName: "admin", password: "password" },
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    maxPollIntervalMs: 20,
    ...extra,
  });
}

/** A query reply listing `items`, as ZStack writes it with `replyWithCount`. */
export function inventories(items: unknown[]): Response {
  return json(200, { inventories: items, total: items.length });
}

/** The `q=` conditions of a query request, decoded. */
export function conditionsOf(request: Received): string[] {
  return new URLSearchParams(request.search).getAll("q");
}

/** The zones `zstack` lists: the cheapest authenticated GET. */
export function listZones(zstack: ZStackClient): Promise<{ inventories: Array<{ uuid: string }> }> {
  return zstack.get("/v1/zones", { schema: queryReplySchema(zoneOrClusterSchema), signal });
}

/** Whether `request` is the account login. */
export function isLogin(request: Received): boolean {
  return request.method === "PUT" && request.path === "/v1/accounts/login";
}

/**
 * The value of sample `name` with exactly `labels` in the metrics the agent serves (0 when
 * absent), parsed from the Prometheus text exposition.
 */
export async function metricValue(
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).sort()
    .join(",");
  for (const line of (await metricsRegistry.metrics()).split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = (match[2] ?? "").split(",").filter((pair) => pair !== "").sort().join(",");
    if (found === wanted) return Number(match[3]);
  }
  return 0;
}
