import { assert, assertEquals, assertRejects } from "../_harness/assert.ts";
import { delay, withSim } from "./_client.ts";

async function admin(
  origin: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return await fetch(`${origin}/__sim${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

Deno.test("unavailable: the next N matching requests answer 503 SYS.1012, then service resumes", async () => {
  await withSim(async (client, sim) => {
    sim.faults.unavailable(2);
    for (let i = 0; i < 2; i++) {
      const answer = await client.get("/v1/zones");
      assertEquals([answer.status, answer.body.error.code], [503, "SYS.1012"]);
    }
    assertEquals((await client.get("/v1/zones")).status, 200);

    sim.faults.unavailable(1, { path: "/v1/api-jobs" });
    const accepted = await client.raw("POST", "/v1/disk-offerings", {
      body: { params: { name: "d", diskSize: 1 } },
    });
    assertEquals(accepted.status, 202);
    const first = await fetch(accepted.body.location);
    assertEquals(first.status, 503);
    await first.body?.cancel();
    assertEquals((await client.poll(accepted.body.location)).status, 200);
  });
});

Deno.test("drop: the connection closes without an answer, the next request is served", async () => {
  await withSim(async (client, sim) => {
    // A fresh connection: on a pooled one, fetch silently retries an idempotent request once.
    using fresh = Deno.createHttpClient({});
    sim.faults.dropConnections(1, { method: "GET" });
    const headers = { Authorization: `OAuth ${client.session}` };
    await assertRejects(() => fetch(`${sim.url}/v1/zones`, { headers, client: fresh }));
    assertEquals((await client.get("/v1/zones")).status, 200);
    sim.faults.dropConnections(2, { path: "/v1/vm-instances" });
    await assertRejects(() => fetch(`${sim.url}/v1/vm-instances`, { headers }));
    assertEquals((await client.get("/v1/vm-instances")).status, 200);
  });
});

Deno.test("down (refuse): connections are refused for a while, then the node answers again", async () => {
  await withSim(async (client, sim) => {
    sim.faults.down(300);
    await assertRejects(() => fetch(`${sim.url}/v1/zones`));
    await assertRejects(() => fetch(`${sim.origin}/__sim/health`));
    await delay(400);
    assertEquals((await client.get("/v1/zones")).status, 200);
  });
});

Deno.test("down (close) over the admin endpoint: ZStack calls fail, /__sim stays reachable, up ends it", async () => {
  await withSim(async (client, sim) => {
    const set = await admin(sim.origin, "POST", "/faults", {
      down: { forMs: 60_000, mode: "close" },
    });
    assertEquals(set.status, 200);
    assertEquals((await set.json()).down.mode, "close");
    await assertRejects(() => fetch(`${sim.url}/v1/zones`));
    const health = await admin(sim.origin, "GET", "/health");
    assertEquals(await health.json(), { ok: true });
    await (await admin(sim.origin, "POST", "/faults", { up: true })).body?.cancel();
    assertEquals((await client.get("/v1/zones")).status, 200);
  });
});

Deno.test("latency delays every answer", async () => {
  await withSim(async (client, sim) => {
    sim.faults.setLatency(150);
    const started = Date.now();
    assertEquals((await client.get("/v1/zones")).status, 200);
    assert(Date.now() - started >= 140, "the answer came too early");
    sim.faults.setLatency(0);
  });
});

Deno.test("failing jobs: the next job of an API fails on the poll and changes nothing", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("victim")).body.inventory;
    await client.action(vm.uuid, "stopVmInstance");
    sim.faults.failJobs(1, {
      api: "StartVmInstance",
      error: { code: "VM.1001", description: "Unable to start a vm", details: "libvirt says no" },
    });
    const failed = await client.action(vm.uuid, "startVmInstance");
    assertEquals([failed.status, failed.body.error.code, failed.body.error.details], [
      503,
      "VM.1001",
      "libvirt says no",
    ]);
    assertEquals(sim.vms()[0].state, "Stopped");
    assertEquals((await client.action(vm.uuid, "startVmInstance")).body.inventory.state, "Running");
  });
});

Deno.test("failing jobs over the admin endpoint default to SYS.1000", async () => {
  await withSim(async (client, sim) => {
    await (await admin(sim.origin, "POST", "/faults", { failJobs: { count: 1 } })).body?.cancel();
    const failed = await client.call("POST", "/v1/disk-offerings", {
      params: { name: "d", diskSize: 1 },
    });
    assertEquals([failed.status, failed.body.error.code], [503, "SYS.1000"]);
    const bad = await admin(sim.origin, "POST", "/faults", { failJobs: { count: "x" } });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  });
});

Deno.test("expireSessions invalidates every session: the next call gets ID.1001", async () => {
  await withSim(async (client, sim) => {
    await (await admin(sim.origin, "POST", "/faults", { expireSessions: true })).body?.cancel();
    assertEquals((await client.get("/v1/zones")).body.error.code, "ID.1001");
    await client.login();
    sim.faults.expireSessions();
    const accepted = await client.raw(
      "PUT",
      `/v1/vm-instances/0123456789abcdef0123456789abcdef/actions`,
      {
        body: { stopVmInstance: {} },
      },
    );
    assertEquals((await client.poll(accepted.body.location)).body.error.code, "ID.1001");
  });
});

Deno.test("stats count calls per endpoint and per API, polls included, and reset", async () => {
  await withSim(async (client, sim) => {
    sim.resetStats();
    await client.get("/v1/zones");
    await client.query("/v1/vm-instances", "state=Running");
    await client.createVm("counted");
    const stats = await (await admin(sim.origin, "GET", "/stats")).json();
    assertEquals(stats.endpoints["GET /v1/zones"], 1);
    assertEquals(stats.endpoints["POST /v1/vm-instances"], 1);
    assert(stats.endpoints["GET /v1/api-jobs/{uuid}"] >= 1);
    assertEquals(stats.apis.CreateVmInstance, 1);
    assertEquals(stats.apis.QueryVmInstance, 1);
    const vm = sim.vms()[0];
    await client.action(vm.uuid, "stopVmInstance");
    assertEquals(sim.stats().apis.StopVmInstance, 1);
    assertEquals(sim.stats().endpoints["PUT /v1/vm-instances/{uuid}/actions"], 1);
    const total = Object.values(sim.stats().endpoints).reduce((sum, n) => sum + n, 0);
    assertEquals(sim.stats().total, total);
    const reset = await (await admin(sim.origin, "DELETE", "/stats")).json();
    assertEquals(reset, { total: 0, endpoints: {}, apis: {} });
  });
});

Deno.test("the admin state endpoint shows VMs, and a host sync can be simulated (Crashed -> start)", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("crashy")).body.inventory;
    const forced = await admin(sim.origin, "POST", `/vms/${vm.uuid}/state`, { state: "Crashed" });
    assertEquals((await forced.json()).state, "Crashed");
    const state = await (await admin(sim.origin, "GET", "/state")).json();
    assertEquals(state.vms.map((v: { state: string }) => v.state), ["Crashed"]);
    assertEquals(state.hosts.length, 2);
    assertEquals((await client.action(vm.uuid, "startVmInstance")).body.inventory.state, "Running");
    const key = await (await admin(sim.origin, "POST", "/access-keys", { AccessKeyID: "AK1" }))
      .json();
    assertEquals(key.AccessKeyID, "AK1");
  });
});

Deno.test("the admin guest endpoint sets whether a guest ignores graceful stops; bad bodies and unknown VMs are refused", async () => {
  await withSim(async (client, sim) => {
    const vm = (await client.createVm("stubborn")).body.inventory;
    const set = await admin(sim.origin, "POST", `/vms/${vm.uuid}/guest`, { ignoresShutdown: true });
    assertEquals(await set.json(), { ignoresShutdown: true });
    assertEquals(sim.state.guestsIgnoringShutdown.has(vm.uuid), true);
    const bad = await admin(sim.origin, "POST", `/vms/${vm.uuid}/guest`, { ignores: true });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
    const missing = await admin(sim.origin, "POST", `/vms/${"f".repeat(32)}/guest`, {
      ignoresShutdown: true,
    });
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
    sim.ignoreGuestShutdown(vm.uuid, false);
    assertEquals(sim.state.guestsIgnoringShutdown.has(vm.uuid), false);
  });
});
