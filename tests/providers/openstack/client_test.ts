// The OpenStack client's retries, token renewal and microversion header, against a fetch
// that plays Keystone and Nova (what the real ones answer is pinned by the stack tests).

import { z } from "zod";
import { OpenStackClient } from "../../../providers/openstack/client.ts";
import { OpenStackHttpError } from "../../../providers/openstack/errors.ts";
import { UnauthenticatedError, UnavailableError } from "../../../lib/provider.ts";
import { assert, assertEquals, assertRejects } from "../../_harness/assert.ts";
import { AnswerLostError } from "../../../providers/openstack/transport.ts";

const signal = new AbortController().signal;
const keystone = "http://keystone.test/v3";
const nova = "http://nova.test/v2.1";

interface Seen {
  method: string;
  url: string;
  token?: string;
  version?: string;
}

/** A Keystone and a Nova: `compute` answers each compute request in turn (then 200 `{}`). */
function cloud(compute: Array<(request: Request) => Response>, options: { refuse?: boolean } = {}) {
  const seen: Seen[] = [];
  let tokens = 0;
  const fetchFake = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      url: `${url.origin}${url.pathname}`,
      token: request.headers.get("X-Auth-Token") ?? undefined,
      version: request.headers.get("OpenStack-API-Version") ?? undefined,
    });
    if (url.pathname === "/v3/auth/tokens") {
      if (options.refuse) {
        return Promise.resolve(
          Response.json({
            error: {
              code: 401,
              message: "The request you have made requires authentication.",
              title: "Unauthorized",
            },
          }, { status: 401 }),
        );
      }
      tokens++;
      return Promise.resolve(Response.json({
        token: {
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          user: { id: "u1", name: "vkedge" },
          project: { id: "p1", name: "edge" },
          roles: [{ id: "r", name: "member" }],
          catalog: [{
            type: "compute",
            endpoints: [{ interface: "public", region_id: "RegionOne", url: nova }],
          }],
        },
      }, { status: 201, headers: { "X-Subject-Token": `token-${tokens}` } }));
    }
    if (url.pathname === "/v2.1/") {
      return Promise.resolve(
        Response.json({ version: { id: "v2.1", version: "2.93", min_version: "2.1" } }),
      );
    }
    const next = compute.shift();
    return Promise.resolve(next ? next(request) : Response.json({}));
  };
  const client = new OpenStackClient({
    authUrl: keystone,
    credentials: {
      kind: "password",
      user: { name: "vkedge", domain: { name: "Default" } },
      password: "p",
      project: { name: "edge", domain: { name: "Default" } },
    },
    fetch: fetchFake as typeof fetch,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
  });
  return { client, seen };
}

const anything = z.unknown();

Deno.test("compute calls carry the negotiated microversion (the cloud's highest up to 2.79) and the token", async () => {
  const { client, seen } = cloud([() => Response.json({ flavors: [] })]);
  await client.request("compute", "GET", "/flavors", { schema: anything, signal });
  const call = seen.find((s) => s.url === `${nova}/flavors`);
  assertEquals([call?.version, call?.token], ["compute 2.79", "token-1"]);
});

Deno.test("a 401 from a service gets one new token and one more try; Keystone's refusal is UnauthenticatedError", async () => {
  const { client, seen } = cloud([
    () => Response.json({ error: { message: "expired" } }, { status: 401 }),
    () => Response.json({ ok: true }),
  ]);
  const reply = await client.request("compute", "GET", "/servers/detail", {
    schema: anything,
    signal,
  });
  assertEquals(reply.value, { ok: true });
  assertEquals(seen.filter((s) => s.url === `${nova}/servers/detail`).map((s) => s.token), [
    "token-1",
    "token-2",
  ]);
  assertEquals(client.stats().logins, 2);
  const refused = cloud([], { refuse: true });
  await assertRejects(
    () => refused.client.request("compute", "GET", "/flavors", { schema: anything, signal }),
    UnauthenticatedError,
    'refuses user "vkedge" in project "edge"',
  );
});

Deno.test("503 and a conflict on an action are repeated; a create is not, and a fault becomes OpenStackHttpError", async () => {
  const busy = () => Response.json({ computeFault: { message: "busy" } }, { status: 503 });
  const conflict = () =>
    Response.json({ conflictingRequest: { message: "task running" } }, { status: 409 });
  const first = cloud([busy, busy, () => Response.json({ servers: [] })]);
  await first.client.request("compute", "GET", "/servers/detail", { schema: anything, signal });
  assertEquals(first.client.stats().retries, 2);

  const action = cloud([conflict, () => new Response(null, { status: 202 })]);
  await action.client.request("compute", "POST", "/servers/x/action", {
    body: { "os-stop": null },
    schema: anything,
    retry: "idempotent-or-conflict",
    signal,
  });
  assertEquals(action.client.stats().retries, 1);

  const create = cloud([conflict]);
  const error = await assertRejects(
    () =>
      create.client.request("compute", "POST", "/servers", { body: {}, schema: anything, signal }),
    OpenStackHttpError,
  );
  assertEquals([error.status, error.fault.name, create.client.stats().retries], [
    409,
    "conflictingRequest",
    0,
  ]);
});

Deno.test("a create sent whose answer never came is AnswerLostError, sent once; a refused one is repeated and only UnavailableError", async () => {
  const broken = cloud([() => {
    throw new TypeError("error sending request: connection reset by peer");
  }]);
  const lost = await assertRejects(
    () =>
      broken.client.request("compute", "POST", "/servers", { body: {}, schema: anything, signal }),
    AnswerLostError,
    "connection reset by peer",
  );
  assert(lost instanceof UnavailableError, "still an UnavailableError");
  assertEquals(broken.seen.filter((s) => s.url === `${nova}/servers`).length, 1, "sent once");

  const refusal = () => {
    throw new TypeError("tcp connect error: Connection refused (os error 111)");
  };
  const refused = cloud(Array.from({ length: 10 }, () => refusal));
  const error = await assertRejects(
    () =>
      refused.client.request("compute", "POST", "/servers", { body: {}, schema: anything, signal }),
    UnavailableError,
    "Connection refused",
  );
  assert(!(error instanceof AnswerLostError), "a refused create is not a lost answer");
  assertEquals(refused.seen.filter((s) => s.url === `${nova}/servers`).length, 5, "repeated");

  // An answer after a broken attempt: a read that then fails with a 502 has its answer.
  const flaky = cloud([
    () => {
      throw new TypeError("connection reset by peer");
    },
    ...Array.from({ length: 10 }, () => () => new Response("bad gateway", { status: 502 })),
  ]);
  const read = await flaky.client.request("compute", "GET", "/flavors", {
    schema: anything,
    signal,
  })
    .catch((e) => e);
  assertEquals(read instanceof OpenStackHttpError && read.status, 502);
});

Deno.test("a 502 that outlasts the retries is the service's error; a Keystone that cannot be reached is UnavailableError naming it", async () => {
  const { client } = cloud(
    Array.from({ length: 10 }, () => () => new Response("bad gateway", { status: 502 })),
  );
  const reply = await client.request("compute", "GET", "/flavors", { schema: anything, signal })
    .catch((e) => e);
  // The last 502 is returned to the caller as the service's answer.
  assertEquals(reply instanceof OpenStackHttpError && reply.status, 502);
  const down = new OpenStackClient({
    authUrl: "http://127.0.0.1:9/v3",
    credentials: { kind: "applicationCredential", credential: { id: "a" }, secret: "s" },
    retries: 1,
    retryBaseDelayMs: 1,
  });
  await assertRejects(
    () => down.token(signal),
    UnavailableError,
    "OpenStack identity at http://127.0.0.1:9 unavailable",
  );
});
