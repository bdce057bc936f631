/**
 * `GET /containerLogs/{namespace}/{pod}/{container}`: validates the kubelet's log query
 * parameters and streams the provider's log.
 *
 * @module
 */

import { z } from "zod";
import {
  type ContainerLogOptions,
  type ContainerRef,
  hasContainerLogs,
  type Provider,
} from "../provider.ts";
import { HttpError } from "./http_errors.ts";

const trueValues = new Set(["1", "t", "T", "true", "TRUE", "True"]);
const falseValues = new Set(["0", "f", "F", "false", "FALSE", "False"]);

function integerParam(name: string, minimum: number) {
  return z.string().transform((text, context) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < minimum) {
      context.addIssue({
        code: "custom",
        message:
          `invalid query parameter "${name}": expected an integer >= ${minimum}, found "${text}"`,
      });
      return z.NEVER;
    }
    return value;
  }).optional();
}

function booleanParam(name: string) {
  return z.string().transform((text, context) => {
    if (trueValues.has(text)) return true;
    if (falseValues.has(text) || text === "") return false;
    context.addIssue({
      code: "custom",
      message: `invalid query parameter "${name}": expected true or false, found "${text}"`,
    });
    return z.NEVER;
  }).optional();
}

const rfc3339Pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** zod schema of the log query (values as strings, as they arrive in the URL). */
export const logQuerySchema = z.object({
  tailLines: integerParam("tailLines", 0),
  limitBytes: integerParam("limitBytes", 1),
  sinceSeconds: integerParam("sinceSeconds", 1),
  sinceTime: z.string().transform((text, context) => {
    const time = Date.parse(text);
    if (!rfc3339Pattern.test(text) || Number.isNaN(time)) {
      context.addIssue({
        code: "custom",
        message:
          `invalid query parameter "sinceTime": expected an RFC 3339 time such as "2006-01-02T15:04:05Z", found "${text}"`,
      });
      return z.NEVER;
    }
    return new Date(time);
  }).optional(),
  follow: booleanParam("follow"),
  previous: booleanParam("previous"),
  timestamps: booleanParam("timestamps"),
});

/** Turns the query of a log request into provider options; throws `HttpError` 400 when invalid. */
export function parseLogQuery(params: URLSearchParams): ContainerLogOptions {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(logQuerySchema.shape)) {
    const value = params.get(key);
    if (value !== null) raw[key] = value;
  }
  const result = logQuerySchema.safeParse(raw);
  if (!result.success) {
    throw new HttpError(400, result.error.issues.map((issue) => issue.message).join("; "));
  }
  const query = result.data;
  if (query.sinceSeconds !== undefined && query.sinceTime !== undefined) {
    throw new HttpError(
      400,
      `invalid query: expected at most one of "sinceSeconds" and "sinceTime", found both`,
    );
  }
  const options: ContainerLogOptions = {};
  if (query.tailLines !== undefined) options.tail = query.tailLines;
  if (query.limitBytes !== undefined) options.limitBytes = query.limitBytes;
  if (query.sinceSeconds !== undefined) options.sinceSeconds = query.sinceSeconds;
  if (query.sinceTime !== undefined) options.sinceTime = query.sinceTime;
  if (query.follow) options.follow = true;
  if (query.previous) options.previous = true;
  if (query.timestamps) options.timestamps = true;
  return options;
}

/** Answers a container log request with the provider's stream (501 without `ContainerLogs`). */
export async function serveContainerLogs(
  provider: Provider,
  ref: ContainerRef,
  options: { params: URLSearchParams; signal: AbortSignal },
): Promise<Response> {
  if (!hasContainerLogs(provider)) {
    throw new HttpError(
      501,
      `provider "${provider.name}" does not implement ContainerLogs: container logs are not available`,
    );
  }
  const query = parseLogQuery(options.params);
  const stream = await provider.getContainerLogs(ref, query, options.signal);
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    },
  });
}
