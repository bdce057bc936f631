/**
 * A small admin client of the stack's APIs, for setting the stack up and for tests that
 * look at what the provider did (the servers, images and ports as OpenStack has them).
 * It is test infrastructure: the provider has a client of its own and never this one.
 *
 * @module
 */

import { ADMIN, REGION } from "./layout.ts";

/** Credentials of a password user, scoped to a project (domain Default). */
export interface PasswordUser {
  user: string;
  password: string;
  project: string;
}

/** An authenticated session: its token and the public endpoints of its catalog. */
export interface AdminSession {
  token: string;
  /** Public endpoint by service type (`compute`, `image`, `network`, `placement`, `identity`). */
  endpoints: Record<string, string>;
  /** Project id of the token's scope. */
  projectId: string;
  /** User id. */
  userId: string;
  /**
   * Authenticates again and takes the new token: {@linkcode call} does so once on a 401,
   * since a test that invalidates every token (Keystone's keys rotated) may run meanwhile.
   */
  renew?: () => Promise<void>;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string; url: string }[];
}

/** Authenticates `credentials` at Keystone `authUrl` (`…/v3`). */
export async function authenticate(
  authUrl: string,
  credentials: PasswordUser = ADMIN,
): Promise<AdminSession> {
  const response = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: {
            user: {
              name: credentials.user,
              domain: { name: "Default" },
              password: credentials.password,
            },
          },
        },
        scope: { project: { name: credentials.project, domain: { name: "Default" } } },
      },
    }),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`keystone: POST /auth/tokens answered ${response.status}: ${text}`);
  }
  const body = JSON.parse(text) as {
    token: { catalog?: CatalogEntry[]; project: { id: string }; user: { id: string } };
  };
  const endpoints: Record<string, string> = {};
  for (const entry of body.token.catalog ?? []) {
    const endpoint = entry.endpoints.find((candidate) =>
      candidate.interface === "public" && (candidate.region ?? REGION) === REGION
    );
    if (endpoint) endpoints[entry.type] = endpoint.url.replace(/\/+$/, "");
  }
  const session: AdminSession = {
    token: response.headers.get("X-Subject-Token") ?? "",
    endpoints,
    projectId: body.token.project.id,
    userId: body.token.user.id,
    renew: async () => {
      session.token = (await authenticate(authUrl, credentials)).token;
    },
  };
  return session;
}

/** Options of {@linkcode call}. */
export interface CallOptions {
  /** JSON body. */
  body?: unknown;
  /** Raw body (an image upload) instead of JSON. */
  raw?: Uint8Array;
  /** Extra headers, such as the compute microversion. */
  headers?: Record<string, string>;
  /** Statuses that count as success (default: any 2xx). */
  expect?: number[];
}

/**
 * Calls `method url` with the session's token; returns the JSON answer (or `{}`). A 401
 * (the token was made invalid) gets one new token, when the session can renew, and one
 * more try.
 */
export async function call<T = Record<string, unknown>>(
  session: { token: string; renew?: () => Promise<void> },
  method: string,
  url: string,
  options: CallOptions = {},
): Promise<T> {
  const headers = new Headers(options.headers);
  let body: BodyInit | undefined;
  if (options.raw !== undefined) {
    headers.set("Content-Type", "application/octet-stream");
    body = options.raw as Uint8Array<ArrayBuffer>;
  } else if (options.body !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(options.body);
  }
  const send = () => {
    headers.set("X-Auth-Token", session.token);
    return fetch(url, { method, headers, body });
  };
  let response = await send();
  if (response.status === 401 && session.renew && !options.expect?.includes(401)) {
    await response.body?.cancel();
    await session.renew();
    response = await send();
  }
  const text = await response.text();
  const ok = options.expect ? options.expect.includes(response.status) : response.ok;
  if (!ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return (text.trim().startsWith("{") ? JSON.parse(text) : {}) as T;
}

/** The compute microversion the tests speak. */
export const COMPUTE_VERSION = { "OpenStack-API-Version": "compute 2.79" };

/** A server as `GET /servers/detail` shows it to an admin (the fields the tests read). */
export interface NovaServer {
  id: string;
  name: string;
  status: string;
  tags?: string[];
  metadata: Record<string, string>;
  created: string;
  addresses: Record<string, { addr: string; version: number }[]>;
  "OS-EXT-SRV-ATTR:host"?: string | null;
  "OS-EXT-STS:task_state"?: string | null;
  "OS-EXT-STS:vm_state"?: string;
  fault?: { message: string; code: number };
  flavor?: { original_name?: string };
  image?: { id: string } | string;
}

/** Every server of every project (admin), optionally filtered by `tags`. */
export async function listServers(
  session: AdminSession,
  options: { tags?: string; deleted?: boolean } = {},
): Promise<NovaServer[]> {
  const query = new URLSearchParams({ all_tenants: "1" });
  if (options.tags) query.set("tags", options.tags);
  const reply = await call<{ servers: NovaServer[] }>(
    session,
    "GET",
    `${session.endpoints.compute}/servers/detail?${query}`,
    { headers: COMPUTE_VERSION },
  );
  return reply.servers;
}
