import assert from "node:assert/strict";
import { AccessCheck } from "../../../lib/kubelet_api/access.ts";
import type {
  AuthenticationResult,
  Authenticator,
  NodeAccessAttributes,
} from "../../../lib/kubelet_api/auth.ts";

const signal = new AbortController().signal;

function authenticator(result: AuthenticationResult | Error): Authenticator {
  return {
    authenticate: () => result instanceof Error ? Promise.reject(result) : Promise.resolve(result),
  };
}

const alice: AuthenticationResult = {
  authenticated: true,
  user: { name: "alice", uid: "u-1", groups: ["devs"], extra: { scope: ["x"] } },
};

function check(
  result: AuthenticationResult | Error,
  decide: (attributes: NodeAccessAttributes) => boolean | Error,
): { access: AccessCheck; asked: NodeAccessAttributes[] } {
  const asked: NodeAccessAttributes[] = [];
  const access = new AccessCheck({
    nodeName: "edge-1",
    authenticator: authenticator(result),
    authorizer: {
      authorize(attributes) {
        asked.push(attributes);
        const decision = decide(attributes);
        if (decision instanceof Error) return Promise.reject(decision);
        return Promise.resolve({ allowed: decision, reason: decision ? "" : "no rule" });
      },
    },
  });
  return { access, asked };
}

Deno.test("access: callers without a user are 401 Unauthorized, also when authentication fails", async () => {
  for (const result of [{ authenticated: false, reason: "none" } as const, new Error("boom")]) {
    const { access, asked } = check(result, () => true);
    const outcome = await access.check(
      { method: "GET", path: "/pods", credentials: {} },
      signal,
    );
    assert.deepEqual(outcome, { allowed: false, status: 401, message: "Unauthorized" });
    assert.equal(asked.length, 0);
  }
});

Deno.test("access: the method's verb is authorized on the path's subresources for this node", async () => {
  const { access, asked } = check(alice, (attributes) => attributes.subresource === "proxy");
  const outcome = await access.check(
    { method: "POST", path: "/exec/ns/pod/c", credentials: {} },
    signal,
  );
  assert.deepEqual(outcome, { allowed: true, user: alice.authenticated && alice.user });
  assert.deepEqual(asked, [{
    user: "alice",
    uid: "u-1",
    groups: ["devs"],
    extra: { scope: ["x"] },
    verb: "create",
    resource: "nodes",
    subresource: "proxy",
    name: "edge-1",
  }]);
  const pods = await access.check({ method: "GET", path: "/pods", credentials: {} }, signal);
  assert.equal(pods.allowed, true, "/pods falls back from pods to proxy");
  assert.deepEqual(asked.slice(1).map((a) => [a.verb, a.subresource]), [
    ["get", "pods"],
    ["get", "proxy"],
  ]);
});

Deno.test("access: denial is 403 with the last subresource asked and the authorizer's reason", async () => {
  const { access } = check(alice, () => false);
  const outcome = await access.check({ method: "GET", path: "/pods", credentials: {} }, signal);
  assert.deepEqual(outcome, {
    allowed: false,
    status: 403,
    message: "Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy): no rule",
  });
});

Deno.test("access: an authorizer failure is 500 naming the attributes", async () => {
  const { access } = check(alice, () => new Error("webhook down"));
  const outcome = await access.check(
    { method: "GET", path: "/stats/summary", credentials: {} },
    signal,
  );
  assert.deepEqual(outcome, {
    allowed: false,
    status: 500,
    message: "Authorization error (user=alice, verb=get, resource=nodes, subresource=stats)",
  });
});
