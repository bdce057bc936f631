import assert from "node:assert/strict";
import {
  createAuthenticator,
  createWebhookAuthorizer,
  type NodeAccessAttributes,
  subresourcesForPath,
  type TokenReviewResult,
  verbForMethod,
} from "../../../lib/kubelet_api/auth.ts";

const signal = new AbortController().signal;

Deno.test("a verified client certificate authenticates as CN with O groups", async () => {
  const authenticator = createAuthenticator();
  const result = await authenticator.authenticate({
    certificate: {
      verified: true,
      commonName: "kube-apiserver",
      organizations: ["system:masters"],
    },
  }, signal);
  assert.deepEqual(result, {
    authenticated: true,
    user: { name: "kube-apiserver", groups: ["system:masters", "system:authenticated"] },
  });
});

Deno.test("an unverified certificate fails even with anonymous auth enabled", async () => {
  const authenticator = createAuthenticator({ anonymousAuth: true });
  const result = await authenticator.authenticate({
    certificate: { verified: false, error: "UNABLE_TO_GET_ISSUER_CERT", organizations: [] },
  }, signal);
  assert.equal(result.authenticated, false);
  assert.match(!result.authenticated ? result.reason : "", /did not verify: UNABLE_TO_GET/);
});

Deno.test("bearer tokens go through the TokenReview callback and are cached", async () => {
  const now = { value: 0 };
  const reviewed: string[] = [];
  const authenticator = createAuthenticator({
    now: () => now.value,
    tokenReview(token): Promise<TokenReviewResult> {
      reviewed.push(token);
      return Promise.resolve(
        token === "good"
          ? { authenticated: true, user: { name: "bob", groups: ["devs"] } }
          : { authenticated: false, reason: "token expired" },
      );
    },
  });
  const good = await authenticator.authenticate({ bearerToken: "good" }, signal);
  assert.deepEqual(good, {
    authenticated: true,
    user: { name: "bob", groups: ["devs", "system:authenticated"] },
  });
  await authenticator.authenticate({ bearerToken: "good" }, signal);
  assert.deepEqual(reviewed, ["good"], "second call served from cache");
  now.value += 61_000;
  await authenticator.authenticate({ bearerToken: "good" }, signal);
  assert.deepEqual(reviewed, ["good", "good"], "cache entry expired after a minute");

  const bad = await authenticator.authenticate({ bearerToken: "bad" }, signal);
  assert.equal(bad.authenticated, false);
  assert.match(!bad.authenticated ? bad.reason : "", /token expired/);
});

Deno.test("without credentials the caller is anonymous only when anonymousAuth is on", async () => {
  const strict = await createAuthenticator().authenticate({}, signal);
  assert.equal(strict.authenticated, false);
  const lenient = await createAuthenticator({ anonymousAuth: true }).authenticate({}, signal);
  assert.deepEqual(lenient, {
    authenticated: true,
    user: { name: "system:anonymous", groups: ["system:unauthenticated"] },
  });
  const noReviewer = await createAuthenticator({ anonymousAuth: true }).authenticate(
    { bearerToken: "x" },
    signal,
  );
  assert.equal(noReviewer.authenticated, false, "a rejected token is not downgraded to anonymous");
});

Deno.test("the webhook authorizer caches allows for a minute and denials for ten seconds", async () => {
  const now = { value: 0 };
  const asked: NodeAccessAttributes[] = [];
  const authorizer = createWebhookAuthorizer((attributes) => {
    asked.push(attributes);
    return Promise.resolve({
      allowed: attributes.user === "alice",
      reason: attributes.user === "alice" ? "" : "no RBAC rule",
    });
  }, { now: () => now.value });
  const base = {
    groups: [],
    verb: "get",
    resource: "nodes" as const,
    subresource: "stats" as const,
    name: "n1",
  };
  assert.equal((await authorizer.authorize({ ...base, user: "alice" }, signal)).allowed, true);
  assert.equal((await authorizer.authorize({ ...base, user: "eve" }, signal)).allowed, false);
  await authorizer.authorize({ ...base, user: "alice" }, signal);
  await authorizer.authorize({ ...base, user: "eve" }, signal);
  assert.equal(asked.length, 2);
  now.value += 11_000;
  await authorizer.authorize({ ...base, user: "alice" }, signal);
  await authorizer.authorize({ ...base, user: "eve" }, signal);
  assert.equal(asked.length, 3, "only the denial was asked again");
  now.value += 50_000;
  await authorizer.authorize({ ...base, user: "alice" }, signal);
  assert.equal(asked.length, 4);
});

Deno.test("paths and methods map to node subresources and verbs like the kubelet", () => {
  assert.deepEqual(subresourcesForPath("/stats/summary"), ["stats"]);
  assert.deepEqual(subresourcesForPath("/metrics/resource"), ["metrics"]);
  assert.deepEqual(subresourcesForPath("/logs/syslog"), ["log"]);
  assert.deepEqual(subresourcesForPath("/containerLogs/ns/pod/c"), ["proxy"]);
  assert.deepEqual(subresourcesForPath("/pods"), ["pods", "proxy"]);
  assert.deepEqual(subresourcesForPath("/runningpods/"), ["pods", "proxy"]);
  assert.deepEqual(subresourcesForPath("/statsfoo"), ["proxy"]);
  assert.deepEqual(subresourcesForPath("/exec/ns/pod/c"), ["proxy"]);
  assert.equal(verbForMethod("GET"), "get");
  assert.equal(verbForMethod("POST"), "create");
  assert.equal(verbForMethod("PUT"), "update");
  assert.equal(verbForMethod("PATCH"), "patch");
  assert.equal(verbForMethod("DELETE"), "delete");
});
