import { assertEquals, assertMatch, assertRejects } from "../../_harness/assert.ts";
import { UnavailableError } from "../../../lib/provider.ts";
import { inventoryReplySchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { ZStackApiError } from "../../../providers/zstack/errors.ts";
import { randomZStackUuid, rewriteJobLocation } from "../../../providers/zstack/jobs.ts";
import { client, isLogin, loginReply, metricValue, signal, vm } from "./_fixtures.ts";
import { json, startReplayServer, text } from "./_replay_server.ts";

Deno.test("async call polls the job at the configured endpoint, not the location's internal host", async () => {
  let polls = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "POST") {
      const job = request.headers.get("X-Job-UUID");
      return json(202, {
        location: `http://127.0.0.2:9/zstack/v1/api-jobs/${job}`,
        apiTimeout: 43200000,
      });
    }
    if (request.path.startsWith("/v1/api-jobs/")) {
      polls++;
      return polls < 3 ? json(202, {}) : json(200, { inventory: vm });
    }
    return text(404, `no api mapping to ${request.path}`);
  });
  try {
    const reply = await client(server.url).call("POST", "/v1/vm-instances", {
      body: { params: { name: "vm1" } },
      schema: inventoryReplySchema(vmInstanceSchema),
      signal,
    });
    assertEquals(reply.inventory.uuid, vm.uuid);
    assertEquals(polls, 3);
    const submit = server.received.find((request) => request.method === "POST")!;
    const job = submit.headers.get("X-Job-UUID") ?? "";
    assertMatch(job, /^[0-9a-f]{32}$/);
    const pollPaths = server.received.filter((request) => request.path.includes("api-jobs"))
      .map((request) => request.path);
    assertEquals(pollPaths, Array(3).fill(`/v1/api-jobs/${job}`));
  } finally {
    await server.close();
  }
});

Deno.test("rewriteJobLocation keeps the job path and swaps scheme, host, port and context", () => {
  assertEquals(
    rewriteJobLocation(
      "http://172.20.0.2:8080/zstack/v1/api-jobs/0123456789abcdef0123456789abcdef",
      "https://zstack.example.com/zstack/",
    ),
    "https://zstack.example.com/zstack/v1/api-jobs/0123456789abcdef0123456789abcdef",
  );
  assertEquals(
    rewriteJobLocation("http://10.0.0.1:8989/v1/api-jobs/x", "http://127.0.0.1:1234"),
    "http://127.0.0.1:1234/v1/api-jobs/x",
  );
});

Deno.test("a poll answered 503 SYS.1012 (management node unavailable) is asked again", async () => {
  let polls = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "PUT") {
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${request.headers.get("X-Job-UUID")}`,
      });
    }
    polls++;
    return polls === 1
      ? json(503, {
        error: { code: "SYS.1012", description: "The management node is unavailable" },
      })
      : json(200, { inventory: vm });
  });
  try {
    const reply = await client(server.url).call("PUT", `/v1/vm-instances/${vm.uuid}/actions`, {
      body: { startVmInstance: {} },
      schema: inventoryReplySchema(vmInstanceSchema),
      signal,
    });
    assertEquals(reply.inventory.state, "Running");
    assertEquals(polls, 2);
  } finally {
    await server.close();
  }
});

Deno.test("job uuids have the form of every ZStack uuid", () => {
  const uuids = new Set(Array.from({ length: 20 }, () => randomZStackUuid()));
  assertEquals(uuids.size, 20);
  for (const uuid of uuids) assertMatch(uuid, /^[0-9a-f]{32}$/);
});

Deno.test("job polls are counted, and each job by how it ended: succeeded, failed, timed_out", async () => {
  const polls = new Map<string, number>();
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    const job = request.headers.get("X-Job-UUID");
    if (request.method === "POST") {
      const { params } = request.body as { params: { name: string } };
      polls.set(job ?? "", 0);
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${params.name}-${job}`,
        ...(params.name === "slow" ? { apiTimeout: 50 } : {}),
      });
    }
    const name = request.path.slice("/v1/api-jobs/".length).split("-")[0];
    if (name === "slow") return json(202, {});
    if (name === "broken") {
      return json(503, { error: { code: "SYS.1006", details: "the hypervisor said no" } });
    }
    return json(200, { inventory: vm });
  });
  const before = {
    polls: await metricValue("vkedge_zstack_job_polls_total"),
    succeeded: await metricValue("vkedge_zstack_jobs_total", { result: "succeeded" }),
    failed: await metricValue("vkedge_zstack_jobs_total", { result: "failed" }),
    timedOut: await metricValue("vkedge_zstack_jobs_total", { result: "timed_out" }),
  };
  try {
    const zstack = client(server.url);
    const create = (name: string) =>
      zstack.call("POST", "/v1/vm-instances", {
        body: { params: { name } },
        schema: inventoryReplySchema(vmInstanceSchema),
        signal,
      });
    await create("fine");
    await assertRejects(() => create("broken"), ZStackApiError, "the hypervisor said no");
    await assertRejects(() => create("slow"), UnavailableError, "to end within 50 ms");
    const jobPolls = server.received.filter((r) => r.path.startsWith("/v1/api-jobs/")).length;
    assertEquals(jobPolls, 3);
    assertEquals(await metricValue("vkedge_zstack_job_polls_total"), before.polls + jobPolls);
    assertEquals(
      await metricValue("vkedge_zstack_jobs_total", { result: "succeeded" }),
      before.succeeded + 1,
    );
    assertEquals(
      await metricValue("vkedge_zstack_jobs_total", { result: "failed" }),
      before.failed + 1,
    );
    assertEquals(
      await metricValue("vkedge_zstack_jobs_total", { result: "timed_out" }),
      before.timedOut + 1,
    );
  } finally {
    await server.close();
  }
});
