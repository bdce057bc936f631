import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import {
  KubeConflictError,
  KubeForbiddenError,
  KubeTooManyRequestsError,
  KubeUnavailableError,
  networkError,
  retryOnConflict,
  retryWhileUnavailable,
} from "../../../lib/kube/mod.ts";

const status = { kind: "Status", code: 0 };

Deno.test("retryWhileUnavailable calls again while the server is unreachable or throttles, then returns", async () => {
  const failures = [
    networkError(new TypeError("connection refused"), "GET /x"),
    new KubeUnavailableError(503, { ...status, code: 503 }),
    new KubeTooManyRequestsError(429, { ...status, code: 429 }),
  ];
  const delays: number[] = [];
  let calls = 0;
  const result = await retryWhileUnavailable(() => {
    calls++;
    const failure = failures.shift();
    return failure ? Promise.reject(failure) : Promise.resolve("ca bundle");
  }, { initialDelayMs: 1, maxDelayMs: 4, onRetry: (_error, delayMs) => delays.push(delayMs) });
  assertEquals(result, "ca bundle");
  assertEquals(calls, 4);
  assertEquals(delays.length, 3);
  assertEquals(delays.every((delay) => delay > 0 && delay <= 4), true, `capped: ${delays}`);
});

Deno.test("retryWhileUnavailable rethrows any other error at once", async () => {
  let calls = 0;
  await assertRejects(
    () =>
      retryWhileUnavailable(() => {
        calls++;
        return Promise.reject(new KubeForbiddenError(403, { ...status, code: 403 }));
      }, { initialDelayMs: 1 }),
    KubeForbiddenError,
  );
  assertEquals(calls, 1);
});

Deno.test("retryWhileUnavailable stops with the signal's reason when the caller gives up", async () => {
  const stop = new AbortController();
  let calls = 0;
  const retrying = retryWhileUnavailable(() => {
    calls++;
    if (calls === 3) stop.abort(new Error("not ready within --startup-timeout=1s"));
    return Promise.reject(networkError(new TypeError("connection refused"), "GET /x"));
  }, { signal: stop.signal, initialDelayMs: 1, maxDelayMs: 2 });
  await assertRejects(() => retrying, Error, "not ready within --startup-timeout=1s");
  assertEquals(calls, 3);
});

Deno.test("retryOnConflict gives up after its attempts with the last conflict", async () => {
  let calls = 0;
  await assertRejects(
    () =>
      retryOnConflict(() => {
        calls++;
        return Promise.reject(new KubeConflictError(409, { ...status, code: 409 }));
      }, { attempts: 3, initialDelayMs: 1 }),
    KubeConflictError,
  );
  assertEquals(calls, 3);
});
