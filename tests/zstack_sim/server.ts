/**
 * The HTTP side of the simulated management node: the REST layer under `/zstack/v1`
 * (also `/v1`, as unit tests of ZStack run without the context path) with its routing,
 * header checks, plain-text HTTP errors, 503 API errors, queries, synchronous calls and
 * 202-plus-poll async jobs, and faults applied before any of it.
 *
 * @module
 */

import { abortableSleep } from "../../lib/sleep.ts";
import { handleAdmin } from "./admin.ts";
import type { Auth, Credential, Identity } from "./auth.ts";
import { ApiError, errorCode, HttpError } from "./errors.ts";
import type { Faults } from "./faults.ts";
import { isZStackUuid, newUuid, toWire } from "./inventory.ts";
import type { Jobs } from "./jobs.ts";
import type { RelayListener } from "./listener.ts";
import { parseQuery, runQuery } from "./query.ts";
import type { ApiContext, ApiSpec } from "./routes/api_spec.ts";
import { collectionItems, queryTarget } from "./routes/collection.ts";
import { matchRoute, type RouteMatch } from "./routes/mod.ts";
import { checkFieldTypes, Params } from "./routes/params.ts";
import type { SimState } from "./state/store.ts";
import type { Stats } from "./stats.ts";

/** The parts of a simulator the HTTP handler works with. */
export interface SimParts {
  state: SimState;
  auth: Auth;
  jobs: Jobs;
  faults: Faults;
  stats: Stats;
  /** The public listener, which can drop a connection. */
  relay(): RelayListener | undefined;
  /** Aborts on close, cutting latency waits short. */
  signal: AbortSignal;
  /** Base of job locations instead of the request's origin, e.g. `http://10.0.0.1:8080`. */
  locationBase?: string;
}

const DEFAULT_API_TIMEOUT_MS = 30 * 60 * 1000;
const encoder = new TextEncoder();

/** A JSON answer without Content-Type, as the management node sends it. */
function jsonAnswer(status: number, body: unknown): Response {
  return new Response(encoder.encode(JSON.stringify(body)), { status });
}

/** A plain-text answer without Content-Type. */
function textAnswer(status: number, text: string): Response {
  return new Response(encoder.encode(text), { status });
}

function errorAnswer(error: unknown): Response {
  if (error instanceof HttpError) return textAnswer(error.status, error.message);
  if (error instanceof ApiError) return jsonAnswer(503, { error: error.error });
  return textAnswer(500, error instanceof Error ? error.message : String(error));
}

/** The answer to a dropped request: the relay closes the connection, so it is never seen. */
function dropAnswer(parts: SimParts, info: Deno.ServeHandlerInfo): Response {
  const remote = info.remoteAddr;
  if ("port" in remote && parts.relay()?.drop(remote.port)) {
    return new Response(null, { status: 500 });
  }
  // Not reached through the relay: abort the body instead.
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(new Error("connection dropped by fault injection"));
      },
    }),
  );
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

function tagList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new HttpError(
      400,
      `[${name}] field is excepted a list, but was [${JSON.stringify(value)}].`,
    );
  }
  return value;
}

async function readBody(request: Request): Promise<Record<string, unknown>> {
  if (request.method !== "POST" && request.method !== "PUT") return {};
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    return asObject(JSON.parse(text));
  } catch (error) {
    // Gson's exception message becomes the 500 body.
    throw new HttpError(500, `com.google.gson.JsonSyntaxException: ${(error as Error).message}`);
  }
}

interface Call {
  spec: ApiSpec;
  context: ApiContext;
}

/** Works out which API a request calls and with what parameters (the REST layer's part). */
async function prepareCall(
  parts: SimParts,
  request: Request,
  url: URL,
  match: RouteMatch,
): Promise<Call> {
  const body = await readBody(request);
  const { route } = match;
  let spec = route.api;
  let raw: Record<string, unknown>;
  if (route.actions) {
    const key = Object.keys(body).find((name) => route.actions?.[name] !== undefined);
    if (key === undefined) {
      throw new HttpError(
        400,
        `the body doesn't contain action mapping to the URL[${url.pathname}]`,
      );
    }
    spec = route.actions[key];
    raw = asObject(body[key]);
  } else if (request.method === "POST") {
    raw = asObject(body.params);
  } else {
    raw = Object.fromEntries(url.searchParams);
  }
  if (!spec) throw new HttpError(404, `no api mapping to ${url.pathname}`);
  checkFieldTypes(raw, spec.fields ?? {});
  // Tags may sit beside the params or inside them; the top-level ones win.
  const systemTags = tagList(body.systemTags, "systemTags") ??
    tagList(raw.systemTags, "systemTags") ?? [];
  const userTags = tagList(body.userTags, "userTags") ?? tagList(raw.userTags, "userTags") ?? [];
  return {
    spec,
    context: {
      state: parts.state,
      auth: parts.auth,
      path: match.path,
      query: url.searchParams,
      params: new Params(raw),
      systemTags,
      userTags,
    },
  };
}

function jobUuidFrom(request: Request, jobs: Jobs): string {
  const header = request.headers.get("X-Job-UUID");
  if (header === null) return newUuid();
  if (header.length !== 32 || !isZStackUuid(header.toLowerCase())) {
    throw new HttpError(
      400,
      `Invalid header[X-Job-UUID], the value[${header}] is not a valid UUID`,
    );
  }
  if (jobs.has(header)) throw new HttpError(400, `Duplicate job uuid[${header}]`);
  return header;
}

function apiTimeoutFrom(request: Request, spec: ApiSpec): number {
  const header = request.headers.get("X-API-Timeout");
  if (header !== null) {
    const seconds = Number(header);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new HttpError(
        400,
        `Invalid header[X-API-Timeout], the value[${header}] is not a positive number`,
      );
    }
    return seconds * 1000;
  }
  return spec.timeoutMs ?? DEFAULT_API_TIMEOUT_MS;
}

async function runQueryApi(
  parts: SimParts,
  request: Request,
  call: Call,
  uri: string,
): Promise<Response> {
  const collection = call.spec.collection;
  if (!collection) throw new HttpError(500, `no collection for ${call.spec.name}`);
  const query = parseQuery(call.context.query);
  if (call.context.path.uuid !== undefined) {
    query.conditions.push({ field: "uuid", op: "=", value: call.context.path.uuid });
  }
  const credential = await parts.auth.readCredential(request, uri);
  parts.auth.authenticate(credential);
  const target = queryTarget(collection, parts.state);
  const result = runQuery(target, collectionItems(collection, call.context), query);
  if (result.inventories === undefined) return jsonAnswer(200, { total: result.total });
  const schema = Object.fromEntries(
    result.inventories.map((_, index) => [`inventories[${index}]`, collection.inventoryClass]),
  );
  return jsonAnswer(200, { inventories: toWire(result.inventories), total: result.total, schema });
}

async function handleApi(
  parts: SimParts,
  request: Request,
  url: URL,
  contextPath: string,
  match: RouteMatch,
): Promise<Response> {
  const uri = url.pathname.slice(contextPath.length);
  const call = await prepareCall(parts, request, url, match);
  const { spec, context } = call;
  parts.stats.countApi(spec.name);
  if (spec.kind === "query") return await runQueryApi(parts, request, call, uri);
  const credential: Credential | undefined = spec.authenticated
    ? await parts.auth.readCredential(request, uri)
    : undefined;
  const withSchema = request.headers.get("X-JSON-Schema") === "true";
  if (spec.kind === "sync") {
    if (credential) context.identity = parts.auth.authenticate(credential);
    const result = asObject(toWire(await spec.run(context)));
    return jsonAnswer(200, withSchema ? { ...result, schema: {} } : result);
  }
  const jobUuid = jobUuidFrom(request, parts.jobs);
  const apiTimeout = apiTimeoutFrom(request, spec);
  parts.jobs.start(jobUuid, spec.name, async () => {
    // The identity interceptor runs when the message is processed: a bad session only
    // shows on the poll.
    const identity: Identity | undefined = credential
      ? parts.auth.authenticate(credential)
      : undefined;
    return toWire(await spec.run({ ...context, identity }));
  });
  // A configured base may or may not carry the context path; the location always does.
  const base = parts.locationBase?.replace(/\/+$/, "").replace(/\/zstack$/, "") ?? url.origin;
  return jsonAnswer(202, { location: `${base}${contextPath}/v1/api-jobs/${jobUuid}`, apiTimeout });
}

function endpointOf(method: string, path: string, match: RouteMatch | undefined): string {
  if (path.startsWith("/v1/api-jobs/")) return `${method} /v1/api-jobs/{uuid}`;
  return match ? `${method} ${match.route.pattern}` : `${method} (unmatched)`;
}

/** Builds the request handler of a simulator. */
export function createHandler(
  parts: SimParts,
): (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response> {
  return async function handle(request, info) {
    const url = new URL(request.url);
    if (url.pathname === "/__sim" || url.pathname.startsWith("/__sim/")) {
      return await handleAdmin(parts, request, url);
    }
    const contextPath = url.pathname.startsWith("/zstack/") ? "/zstack" : "";
    const path = url.pathname.slice(contextPath.length);
    const method = request.method;
    const isPoll = path.startsWith("/v1/api-jobs/");
    const match = isPoll ? undefined : matchRoute(method, path);
    parts.stats.countRequest(endpointOf(method, path, match));

    if (parts.faults.latencyMs > 0) await abortableSleep(parts.faults.latencyMs, parts.signal);
    if (parts.faults.downMode() !== undefined || parts.faults.takeDrop(path, method)) {
      return dropAnswer(parts, info);
    }
    if (parts.faults.takeUnavailable(path, method)) {
      return jsonAnswer(503, {
        error: errorCode("SYS.1012", "management node is unavailable (injected fault)"),
      });
    }
    try {
      if (isPoll) {
        if (method !== "GET") return textAnswer(405, `method ${method} is not allowed on ${path}`);
        const answer = parts.jobs.poll(path.slice("/v1/api-jobs/".length));
        return "text" in answer
          ? textAnswer(answer.status, answer.text)
          : jsonAnswer(answer.status, answer.body);
      }
      if (!match || !path.startsWith("/v1/")) {
        return textAnswer(404, `no api mapping to ${url.pathname}`);
      }
      return await handleApi(parts, request, url, contextPath, match);
    } catch (error) {
      return errorAnswer(error);
    }
  };
}
