/**
 * Metrics of the Kubernetes client, in the spirit of client-go's `rest_client_*` and named
 * like the API server's own `apiserver_request_total` labels: requests by verb, resource
 * and code, their latency, rate-limiter waits, retries, the watches open right now and the
 * events they deliver.
 *
 * @module
 */

import type { Counter } from "prom-client";
import { counter, gauge, histogram } from "../metrics/mod.ts";
import type { KubeRequest } from "./request.ts";
import { type ResourceDescriptor, resourceName } from "./resources.ts";

const requests = counter({
  name: "vkedge_kube_requests_total",
  help:
    "Requests sent to the Kubernetes API server, by verb, resource and HTTP status code (error: no answer, such as a network failure or a timeout); each retry counts.",
  labelNames: ["verb", "resource", "code"],
});

const requestDuration = histogram({
  name: "vkedge_kube_request_duration_seconds",
  help:
    "Time from sending a request to the Kubernetes API server to its response headers (for a watch, until the stream is open), by verb and resource.",
  labelNames: ["verb", "resource"],
});

const rateLimiterWait = histogram({
  name: "vkedge_kube_rate_limiter_wait_seconds",
  help: "Time requests to the Kubernetes API server waited for the client-side rate limiter.",
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});

const retries = counter({
  name: "vkedge_kube_request_retries_total",
  help:
    "Requests to the Kubernetes API server sent again after a retriable failure, by verb, resource and the failure's code (429, 5xx or error).",
  labelNames: ["verb", "resource", "code"],
});

const watches = gauge({
  name: "vkedge_kube_watches",
  help:
    "Watch requests to the Kubernetes API server open right now, by resource (plural, plural.group outside the core group).",
  labelNames: ["resource"],
});

const watchEvents = counter({
  name: "vkedge_kube_watch_events_total",
  help:
    "Events received on watch streams, by resource and type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).",
  labelNames: ["resource", "type"],
});

/** The labels a request is counted under. */
export interface RequestLabels {
  /** As the API server names it: GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION. */
  verb: string;
  /** `plural`, `plural.group`, with `/subresource` when there is one; `other` for non-resource paths. */
  resource: string;
}

/** The `resource` label of a resource: its plural, `plural.group` outside the core group. */
export function resourceLabel(descriptor: ResourceDescriptor): string {
  return resourceName(descriptor);
}

function verbOf(request: KubeRequest, hasName: boolean): string {
  switch (request.method) {
    case "GET":
      if (hasName) return "GET";
      return request.query?.watch ? "WATCH" : "LIST";
    case "PATCH":
      return request.contentType === "application/apply-patch+yaml" ? "APPLY" : "PATCH";
    case "DELETE":
      return hasName ? "DELETE" : "DELETECOLLECTION";
    default:
      return request.method;
  }
}

/**
 * The verb and resource of a request, read from its method and path
 * (`/api/v1/namespaces/ns/pods/web/log` is a GET of `pods/log`).
 */
export function describeRequest(request: KubeRequest): RequestLabels {
  const segments = request.path.split("?")[0].split("/").filter((s) => s !== "");
  let rest: string[];
  let group = "";
  if (segments[0] === "api" && segments.length > 2) {
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length > 3) {
    group = segments[1];
    rest = segments.slice(3);
  } else {
    return { verb: request.method, resource: "other" };
  }
  const namespaceSubresource = rest.length === 3 &&
    (rest[2] === "status" || rest[2] === "finalize");
  if (rest[0] === "namespaces" && rest.length > 2 && !namespaceSubresource) rest = rest.slice(2);
  const [plural, name, subresource] = rest;
  const resource = resourceName({ plural, group });
  return {
    verb: verbOf(request, name !== undefined),
    resource: subresource === undefined ? resource : `${resource}/${subresource}`,
  };
}

/** Records how long a request waited for the rate limiter. */
export function observeRateLimiterWait(milliseconds: number): void {
  rateLimiterWait.observe(milliseconds / 1000);
}

/** Records one attempt that got an answer (`code`: the HTTP status) or none (`"error"`). */
export function observeAttempt(
  labels: RequestLabels,
  outcome: { code: number | "error"; milliseconds: number },
): void {
  requests.inc({ verb: labels.verb, resource: labels.resource, code: String(outcome.code) });
  requestDuration.observe(labels, outcome.milliseconds / 1000);
}

/** Records that a request is sent again after a failure with `code`. */
export function observeRetry(labels: RequestLabels, code: number | "error"): void {
  retries.inc({ verb: labels.verb, resource: labels.resource, code: String(code) });
}

/** A counter of watch events of `resource`, to be called with each event's type. */
export function watchEventCounter(resource: string): (type: string) => void {
  const byType = new Map<string, Counter.Internal>();
  return (type) => {
    let child = byType.get(type);
    if (child === undefined) {
      child = watchEvents.labels({ resource, type });
      byType.set(type, child);
    }
    child.inc();
  };
}

/**
 * Counts an open watch in `vkedge_kube_watches` from now until its body ends, fails or is
 * cancelled, or one of `signals` aborts, whichever comes first; returns the body to read.
 */
export function countOpenWatch(
  body: ReadableStream<Uint8Array>,
  resource: string,
  options: { signals: readonly (AbortSignal | undefined)[] },
): ReadableStream<Uint8Array> {
  const open = watches.labels({ resource });
  const signals = options.signals.filter((signal) => signal !== undefined);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    open.dec();
    for (const signal of signals) signal.removeEventListener("abort", end);
  };
  open.inc();
  for (const signal of signals) {
    if (signal.aborted) {
      end();
      break;
    }
    signal.addEventListener("abort", end, { once: true });
  }
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        end();
        controller.error(error);
        return;
      }
      if (chunk.done) {
        end();
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      end();
      // Not awaited: cancelling a streamed body may wait on the connection.
      reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
