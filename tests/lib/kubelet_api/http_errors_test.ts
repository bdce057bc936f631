import assert from "node:assert/strict";
import {
  errorResponse,
  failureOf,
  HttpError,
  statusForError,
  statusResponse,
} from "../../../lib/kubelet_api/http_errors.ts";
import {
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
} from "../../../lib/provider.ts";

Deno.test("http errors: provider errors map to statuses by class, also through a cause", () => {
  assert.equal(statusForError(new NotFoundError("pod x not found")), 404);
  assert.equal(statusForError(new InvalidInputError("bad")), 400);
  assert.equal(statusForError(new UnavailableError("down")), 503);
  assert.equal(statusForError(new NotImplementedError("no")), 501);
  assert.equal(statusForError(new HttpError(405, "no")), 405);
  assert.equal(statusForError(new Error("wrapped", { cause: new NotFoundError("x") })), 404);
  assert.equal(statusForError("text"), 500);
});

Deno.test("http errors: plain requests get the message as text, with retry-after when known", async () => {
  const response = errorResponse(new UnavailableError("backend down", { retryAfterMs: 1500 }));
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "2");
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await response.text(), "backend down\n");
  assert.deepEqual(failureOf(new HttpError(501, "not yet")), { status: 501, message: "not yet" });
});

Deno.test("http errors: upgrade failures are a metav1.Status that client-go decodes", async () => {
  const response = statusResponse({
    status: 403,
    message: "Forbidden (user=u): RBAC: no rule",
    headers: { "retry-after": "1" },
  });
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("retry-after"), "1");
  assert.deepEqual(await response.json(), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "Forbidden (user=u): RBAC: no rule",
    reason: "Forbidden",
    code: 403,
  });
  const notImplemented = await statusResponse({ status: 501, message: "later" }).json();
  assert.equal(notImplemented.reason, undefined);
  assert.equal(notImplemented.code, 501);
});
