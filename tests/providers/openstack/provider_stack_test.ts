// The openstack provider against the real Nova, Keystone, Glance and Neutron of the
// OpenStack test stack: what lands in OpenStack (metadata, tags, IPs), refusals, the
// token's renewal, application credentials, duplicates after a lost create, policy.

import {
  hasVirtualMachineMigration,
  InvalidInputError,
  UnavailableError,
} from "../../../lib/provider.ts";
import { call, COMPUTE_VERSION, listServers } from "../../openstack/admin_api.ts";
import { stackAdmin } from "../../_harness/openstack.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../../_harness/assert.ts";
import { OpenStackClient } from "../../../providers/openstack/client.ts";
import { flavorListSchema } from "../../../providers/openstack/api_types.ts";
import { nodeTag, uidTag } from "../../../providers/openstack/identity.ts";
import { pod } from "./_fixtures.ts";
import { stackNode } from "./_stack_backend.ts";

const signal = new AbortController().signal;
const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test("a pod becomes an ACTIVE server with the ownership metadata and tags, an IP from Neutron, and its console in the log", async () => {
  const node = await stackNode("server");
  try {
    const provider = await node.provider();
    const web = pod("web");
    await provider.createPod(web, signal);
    const running = await eventually("Running", async () => {
      const got = await provider.getPod("default", "web", signal);
      return got?.status?.phase === "Running" ? got : undefined;
    });
    assertMatch(running.status?.podIP ?? "", /^10\.20\./);
    const admin = await stackAdmin(node.stack);
    const [server] = (await listServers(admin)).filter((s) =>
      s.metadata["vkedge.io:node"] === node.nodeName
    );
    assertEquals(server.name, "vkedge-default.web");
    assertEquals(server.status, "ACTIVE");
    assertEquals(server.flavor?.original_name, "m1.nano");
    assertEquals(
      [
        server.metadata["vkedge.io:cluster"],
        server.metadata["vkedge.io:namespace"],
        server.metadata["vkedge.io:pod"],
        server.metadata["vkedge.io:pod-uid"],
      ],
      ["provider-tests", "default", "web", web.metadata!.uid],
    );
    const owner = { clusterName: "provider-tests", nodeName: node.nodeName };
    assertEquals(
      [...(server.tags ?? [])].sort(),
      ["vkedge", await nodeTag(owner), await uidTag(web.metadata!.uid!)].sort(),
    );
    assertEquals(server.addresses.private?.[0]?.addr, running.status?.podIP);
    const log = await new Response(
      await provider.getContainerLogs(
        { namespace: "default", pod: "web", container: "main" },
        {},
        signal,
      ),
    ).text();
    assertMatch(log, /^\[vkedge\] .* create requested: image tiny \(.*\), flavor m1.nano/m);
    assertMatch(log, /^FAKE CONSOLE OUTPUT$/m);
    const tail = await new Response(
      await provider.getContainerLogs({ namespace: "default", pod: "web", container: "main" }, {
        tail: 1,
      }, signal),
    ).text();
    assertEquals(tail, "LAST LINE\n");
  } finally {
    await node.close();
  }
});

test("an unknown image, flavor or network is InvalidInputError naming it and what exists", async () => {
  const node = await stackNode("refusals");
  try {
    const provider = await node.provider();
    await assertRejects(
      () => provider.createPod(pod("noimage", { image: "openstack/no-such-image" }), signal),
      InvalidInputError,
      `image "no-such-image" not found in Glance`,
    );
    const flavor = await assertRejects(
      () =>
        provider.createPod(
          pod("noflavor", { annotations: { "openstack.vkedge.io/flavor": "m9.huge" } }),
          signal,
        ),
      InvalidInputError,
    );
    assertMatch(flavor.message, /flavor "m9.huge" not found: expected one of m1.nano/);
    const network = await assertRejects(
      () =>
        provider.createPod(
          pod("nonet", { annotations: { "openstack.vkedge.io/networks": "nowhere" } }),
          signal,
        ),
      InvalidInputError,
    );
    assertMatch(network.message, /network "nowhere".*the networks this project sees are .*private/);
    assertEquals(await provider.getPods(signal), []);
  } finally {
    await node.close();
  }
});

test("a second server of one workload (a create repeated after its answer was lost) is deleted, the oldest kept", async () => {
  const node = await stackNode("duplicate");
  try {
    const provider = await node.provider();
    const web = pod("web");
    await provider.createPod(web, signal);
    const admin = await stackAdmin(node.stack);
    const [first] = (await listServers(admin)).filter((s) =>
      s.metadata["vkedge.io:node"] === node.nodeName
    );
    // What a second agent would have made: the same request, sent again.
    const full = await call<
      {
        server: {
          metadata: Record<string, string>;
          tags: string[];
          flavor: { original_name: string };
        };
      }
    >(
      admin,
      "GET",
      `${admin.endpoints.compute}/servers/${first.id}`,
      { headers: COMPUTE_VERSION },
    );
    const flavors = flavorListSchema.parse(
      await call(admin, "GET", `${admin.endpoints.compute}/flavors/detail`),
    );
    const images = await call<{ images: { id: string }[] }>(
      admin,
      "GET",
      `${admin.endpoints.image}/v2/images?name=tiny`,
    );
    const nets = await call<{ networks: { id: string }[] }>(
      admin,
      "GET",
      `${admin.endpoints.network}/v2.0/networks?name=private`,
    );
    await call(admin, "POST", `${admin.endpoints.compute}/servers`, {
      headers: COMPUTE_VERSION,
      body: {
        server: {
          name: "vkedge-default.web",
          imageRef: images.images[0].id,
          flavorRef: flavors.flavors.find((f) => f.name === "m1.nano")!.id,
          networks: [{ uuid: nets.networks[0].id }],
          metadata: full.server.metadata,
          tags: full.server.tags,
        },
      },
    });
    const left = await eventually("one server left", async () => {
      await provider.getPods(signal);
      const servers = (await listServers(admin)).filter((s) =>
        s.metadata["vkedge.io:node"] === node.nodeName
      );
      return servers.length === 1 ? servers : undefined;
    });
    assertEquals(left[0].id, first.id);
    const state = await provider.getVirtualMachineState(web, signal);
    assertEquals(state.id, first.id);
  } finally {
    await node.close();
  }
});

test("a create whose answer was lost makes no second server: the next creates wait for Nova's, then adopt it", async () => {
  const node = await stackNode("lost");
  // The first POST /servers reaches Nova only after its caller was told the connection
  // broke: what a create Nova is slow to answer looks like to the agent.
  let delayed: Promise<unknown> | undefined;
  const lossy: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (delayed === undefined && init?.method === "POST" && url.endsWith("/servers")) {
      const { signal: _signal, ...rest } = init;
      delayed = new Promise((resolve) => setTimeout(resolve, 2_000))
        .then(() => fetch(url, rest))
        .then((response) => response.text());
      return Promise.reject(new TypeError("connection reset by peer (test)"));
    }
    return fetch(input, init);
  };
  try {
    const provider = await node.provider({ client: { fetch: lossy } });
    const web = pod("web");
    await assertRejects(() => provider.createPod(web, signal), UnavailableError);
    const again = await assertRejects(() => provider.createPod(web, signal), UnavailableError);
    assertMatch(again.message, /had no answer, and Nova may still be making its server/);
    await delayed;
    const admin = await stackAdmin(node.stack);
    const mine = async () =>
      (await listServers(admin)).filter((s) => s.metadata["vkedge.io:node"] === node.nodeName);
    const [made] = await eventually("Nova's server", async () => {
      const servers = await mine();
      return servers.length > 0 ? servers : undefined;
    });
    await provider.createPod(web, signal);
    const state = await provider.getVirtualMachineState(web, signal);
    assertEquals(state.id, made.id, "the server Nova made is adopted");
    assertEquals((await mine()).map((s) => s.id), [made.id], "one server");
  } finally {
    await node.close();
  }
});

test("a revoked token is renewed on the 401 and the call succeeds; a token due for renewal is renewed before use", async () => {
  const node = await stackNode("token");
  try {
    let now = Date.now();
    const provider = await node.provider({ client: { now: () => now } });
    const client = node.client!;
    await provider.ping(signal);
    const first = await client.token(signal);
    const admin = await stackAdmin(node.stack);
    await call(admin, "DELETE", `${node.stack.authUrl}/auth/tokens`, {
      headers: { "X-Subject-Token": first.value },
      expect: [204],
    });
    // Services cache validated tokens for up to 10 s (token_cache_time of the stack).
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const logins = client.stats().logins;
    await provider.ping(signal);
    assertEquals(client.stats().logins, logins + 1, "one new token after the 401");
    const second = await client.token(signal);
    assert(second.value !== first.value, "a new token");
    now = second.renewAt.getTime() + 1;
    await provider.ping(signal);
    assertEquals(client.stats().logins, logins + 2, "renewed before use, without a 401");
  } finally {
    await node.close();
  }
});

test("application credentials authenticate the provider", async () => {
  const base = await stackNode("appcred");
  const admin = await stackAdmin(base.stack);
  const created = await call<{ application_credential: { id: string; secret: string } }>(
    admin,
    "POST",
    `${base.stack.authUrl}/users/${admin.userId}/application_credentials`,
    { body: { application_credential: { name: `vkedge-${base.nodeName}` } } },
  );
  const { id, secret } = created.application_credential;
  try {
    const client = new OpenStackClient({
      authUrl: base.stack.authUrl,
      credentials: { kind: "applicationCredential", credential: { id }, secret },
    });
    const reply = await client.request("compute", "GET", "/flavors/detail", {
      schema: flavorListSchema,
      signal,
    });
    assert(reply.value.flavors.some((flavor) => flavor.name === "m1.nano"));
    assertEquals((await client.token(signal)).projectName, "admin");
  } finally {
    await call(
      admin,
      "DELETE",
      `${base.stack.authUrl}/users/${admin.userId}/application_credentials/${id}`,
      {
        expect: [204, 404],
      },
    );
    await base.close();
  }
});

test("credentials the policy does not let see hypervisors get a provider without migration, and pods still run", async () => {
  const node = await stackNode("member", { member: true });
  try {
    const provider = await node.provider();
    assertEquals(hasVirtualMachineMigration(provider), false);
    await provider.createPod(pod("web"), signal);
    await eventually(
      "Running",
      async () =>
        (await provider.getPod("default", "web", signal))?.status?.phase === "Running"
          ? true
          : undefined,
    );
    const state = await provider.getVirtualMachineState(pod("web"), signal).catch(() => undefined);
    assertEquals(state, undefined, "a pod object of another UID is not this VM's");
  } finally {
    await node.close();
  }
});

test("the node's capacity is the project's quota, bounded by Placement", async () => {
  const node = await stackNode("capacity");
  try {
    const provider = await node.provider();
    const configured = await provider.configureNode({
      metadata: { name: node.nodeName },
      status: {},
    }, signal);
    assertEquals(configured.status?.capacity, {
      cpu: "200",
      memory: `${204800 * 1024}Ki`,
      pods: "100",
    });
    assertMatch(
      configured.status?.nodeInfo?.osImage ?? "",
      /^OpenStack at http:\/\/127.0.0.1:\d+\/v3 \(project admin\)$/,
    );
    assertEquals(configured.status?.nodeInfo?.containerRuntimeVersion, "openstack://nova-2.79");
  } finally {
    await node.close();
  }
});
