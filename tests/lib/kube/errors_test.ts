import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { assertEquals, assertInstanceOf, assertStringIncludes } from "../../_harness/assert.ts";
import {
  errorFromStatus,
  KubeAlreadyExistsError,
  KubeApiError,
  KubeBadRequestError,
  KubeConflictError,
  KubeForbiddenError,
  KubeGoneError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeTooManyRequestsError,
  KubeUnauthorizedError,
  KubeUnavailableError,
  networkError,
} from "../../../lib/kube/mod.ts";

function status(code: number, reason: string, extra: Partial<Status> = {}): Status {
  return {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code,
    reason,
    message: "m",
    ...extra,
  };
}

Deno.test("errorFromStatus maps each status code and reason to its error class", () => {
  const cases: [number, Status, abstract new (...args: never[]) => KubeApiError][] = [
    [404, status(404, "NotFound"), KubeNotFoundError],
    [409, status(409, "AlreadyExists"), KubeAlreadyExistsError],
    [409, status(409, "Conflict"), KubeConflictError],
    [410, status(410, "Gone"), KubeGoneError],
    [200, status(410, "Expired"), KubeGoneError],
    [403, status(403, "Forbidden"), KubeForbiddenError],
    [401, status(401, "Unauthorized"), KubeUnauthorizedError],
    [422, status(422, "Invalid"), KubeInvalidError],
    [429, status(429, "TooManyRequests"), KubeTooManyRequestsError],
    [400, status(400, "BadRequest"), KubeBadRequestError],
    [500, status(500, "InternalError"), KubeUnavailableError],
    [502, status(502, ""), KubeUnavailableError],
    [503, status(503, "ServiceUnavailable"), KubeUnavailableError],
    [504, status(504, "Timeout"), KubeUnavailableError],
    [405, status(405, "MethodNotAllowed"), KubeApiError],
  ];
  for (const [httpCode, body, type] of cases) {
    const error = errorFromStatus(httpCode, body);
    assertEquals(error.constructor, type, `${httpCode} ${body.reason}`);
    assertEquals(error.httpCode, httpCode);
    assertEquals(error.status, body);
  }
});

Deno.test("errorFromStatus keeps the Status message, reason and details", () => {
  const body = status(422, "Invalid", {
    message: 'ConfigMap "x" is invalid: metadata.name: Invalid value',
    details: { name: "x", kind: "configmaps", causes: [{ field: "metadata.name" }] },
  });
  const error = errorFromStatus(422, body);
  assertInstanceOf(error, KubeInvalidError);
  assertEquals(error.reason, "Invalid");
  assertEquals(error.code, 422);
  assertEquals(error.status.details?.causes?.[0].field, "metadata.name");
  assertEquals(
    error.message,
    'Invalid (HTTP 422): ConfigMap "x" is invalid: metadata.name: Invalid value',
  );
  assertEquals(error.name, "KubeInvalidError");
});

Deno.test("errorFromStatus synthesises a Status from a non-Status body", () => {
  const error = errorFromStatus(503, "upstream connect error\n");
  assertInstanceOf(error, KubeUnavailableError);
  assertEquals(error.reason, "ServiceUnavailable");
  assertEquals(error.status.message, "upstream connect error");
  const empty = errorFromStatus(404, "");
  assertInstanceOf(empty, KubeNotFoundError);
  assertEquals(
    empty.message,
    "NotFound (HTTP 404): the server answered HTTP 404 with an empty body",
  );
});

Deno.test("KubeTooManyRequestsError carries Retry-After, else details.retryAfterSeconds", () => {
  const fromHeader = errorFromStatus(429, status(429, "TooManyRequests"), { retryAfter: "7" });
  assertInstanceOf(fromHeader, KubeTooManyRequestsError);
  assertEquals(fromHeader.retryAfterSeconds, 7);
  const fromDetails = errorFromStatus(
    429,
    status(429, "TooManyRequests", { details: { retryAfterSeconds: 3 } }),
  );
  assertInstanceOf(fromDetails, KubeTooManyRequestsError);
  assertEquals(fromDetails.retryAfterSeconds, 3);
});

Deno.test("networkError is an KubeUnavailableError with HTTP code 0 naming the request", () => {
  const error = networkError(new TypeError("connection refused"), "GET /api/v1/pods");
  assertInstanceOf(error, KubeUnavailableError);
  assertEquals(error.httpCode, 0);
  assertStringIncludes(error.message, "GET /api/v1/pods: connection refused");
});

Deno.test("networkError says what fetch's cause says (URL, connection refused)", () => {
  const refused = new Error(
    "error sending request for url (https://127.0.0.1:6443/api/v1/pods): client error (Connect): tcp connect error: Connection refused (os error 111)",
  );
  const error = networkError(new TypeError("fetch failed", { cause: refused }), "GET /api/v1/pods");
  assertStringIncludes(
    error.message,
    "GET /api/v1/pods: fetch failed: error sending request for url (https://127.0.0.1:6443/api/v1/pods)",
  );
  assertStringIncludes(error.message, "Connection refused");
  assertEquals(error.cause instanceof TypeError, true);
});

Deno.test("long error bodies are truncated in the message", () => {
  const error = errorFromStatus(500, "x".repeat(5000));
  assertEquals(error.message.length < 1100, true);
});
