import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { createAuthenticator, createWebhookAuthorizer } from "../../../lib/kubelet_api/auth.ts";
import { KubeletApiServer } from "../../../lib/kubelet_api/server.ts";
import type { Summary } from "../../../lib/stats_types.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider } from "../../../providers/mock/mock_provider.ts";
import { bareProvider, makePod, nodeName, pki, startServer } from "./_fixture.ts";

const signal = new AbortController().signal;

Deno.test("kubelet API: /healthz answers ok without credentials", async () => {
  const api = await startServer();
  try {
    const response = await api.get("/healthz", { who: "none" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok\n");
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: anonymous and untrusted callers get 401 Unauthorized", async () => {
  const api = await startServer();
  try {
    for (const who of ["none", "stranger"] as const) {
      const response = await api.get("/pods", { who });
      assert.equal(response.status, 401, who);
      assert.equal(await response.text(), "Unauthorized\n");
    }
    const badToken = await api.get("/pods", { who: "none", token: "nope" });
    assert.equal(badToken.status, 401);
    await badToken.body?.cancel();
    assert.equal(api.asked.length, 0, "no authorization without authentication");
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: anonymousAuth lets anonymous reach the authorizer, which decides", async () => {
  const api = await startServer({ anonymousAuth: true });
  try {
    const response = await api.get("/stats/summary", { who: "none" });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /user=system:anonymous.*subresource=stats/);
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: a denied user gets 403 with the authorizer's reason", async () => {
  const api = await startServer();
  try {
    const response = await api.get("/containerLogs/default/web/app", { who: "mallory" });
    assert.equal(response.status, 403);
    assert.equal(
      await response.text(),
      "Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy): RBAC: no rule for you\n",
    );
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: client certificate and bearer token users reach /pods as a PodList", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("web", ["app"]), signal);
    const response = await api.get("/pods");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    const list = await response.json();
    assert.equal(list.kind, "PodList");
    assert.equal(list.apiVersion, "v1");
    assert.deepEqual(list.items.map((pod: Pod) => pod.metadata?.uid), ["uid-web"]);
    assert.equal(list.items[0].spec.nodeName, nodeName);
    const alice = api.asked.find((a) => a.user === "alice");
    assert.deepEqual(alice, {
      user: "alice",
      groups: ["system:masters", "system:authenticated"],
      verb: "get",
      resource: "nodes",
      subresource: "pods",
      name: nodeName,
    });

    const byToken = await api.get("/pods", { who: "none", token: "good-token" });
    assert.equal(byToken.status, 200);
    await byToken.body?.cancel();
    assert.ok(api.asked.some((a) => a.user === "bob" && a.groups.includes("devs")));
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: /runningpods/ lists the provider's running pods only", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("web", ["app"]), signal);
    await api.provider.createPod(makePod("gone", ["app"]), signal);
    await api.provider.deletePod(makePod("gone", ["app"]), signal);
    for (const path of ["/runningpods/", "/runningpods"]) {
      const response = await api.get(path);
      assert.equal(response.status, 200);
      const list = await response.json();
      assert.deepEqual(list.items.map((pod: Pod) => pod.metadata?.name), ["web"]);
    }
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: container logs honour tailLines, limitBytes and timestamps", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("web", ["app", "side"]), signal);
    const all = await (await api.get("/containerLogs/default/web/side")).text();
    assert.equal(all, "mock: container side of pod default/web started from image nginx:side\n");

    const tail0 = await api.get("/containerLogs/default/web/app?tailLines=0");
    assert.equal(tail0.status, 200);
    assert.equal(await tail0.text(), "");

    const limited = await api.get("/containerLogs/default/web/app?limitBytes=11");
    assert.equal(await limited.text(), "mock: conta");

    const stamped = await (await api.get("/containerLogs/default/web/app?timestamps=true")).text();
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z mock: container app/);
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: bad log parameters are 400, unknown pods and containers 404", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("web", ["app"]), signal);
    const bad = await api.get("/containerLogs/default/web/app?tailLines=abc");
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /"tailLines": expected an integer >= 0, found "abc"/);
    const both = await api.get(
      "/containerLogs/default/web/app?sinceSeconds=3&sinceTime=2030-01-01T00:00:00Z",
    );
    assert.equal(both.status, 400);
    await both.body?.cancel();
    const previous = await api.get("/containerLogs/default/web/app?previous=true");
    assert.equal(previous.status, 400);
    assert.match(await previous.text(), /previous terminated container "app"/);

    const unknownPod = await api.get("/containerLogs/default/ghost/app");
    assert.equal(unknownPod.status, 404);
    assert.match(await unknownPod.text(), /pod "default\/ghost" not found/);
    const unknownContainer = await api.get("/containerLogs/default/web/nope");
    assert.equal(unknownContainer.status, 404);
    await unknownContainer.body?.cancel();
    const unknownPath = await api.get("/nothing/here");
    assert.equal(unknownPath.status, 404);
    assert.equal(await unknownPath.text(), "404 request not found\n");
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: followed logs stream over HTTPS and stop when the client aborts", async () => {
  const mock = new MockProvider(parseMockConfig({ logHeartbeatSeconds: 1 }), {
    nodeName,
    operatingSystem: "linux",
    internalIp: "127.0.0.1",
    daemonPort: 10250,
  });
  const providerSignals: AbortSignal[] = [];
  const getContainerLogs = mock.getContainerLogs.bind(mock);
  mock.getContainerLogs = (ref, options, requestSignal) => {
    providerSignals.push(requestSignal);
    return getContainerLogs(ref, options, requestSignal);
  };
  const api = await startServer({ provider: mock });
  try {
    await api.provider.createPod(makePod("web", ["app"]), signal);
    const abort = new AbortController();
    const response = await fetch(`${api.url}/containerLogs/default/web/app?follow=true`, {
      client: api.client(),
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const started = Date.now();
    while (!text.includes("heartbeat 1")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "stream ended before the first heartbeat");
      text += decoder.decode(value);
    }
    assert.ok(Date.now() - started < 3000, "heartbeat arrived while following");
    abort.abort();
    await assert.rejects(reader.read());
    const deadline = Date.now() + 2000;
    while (!providerSignals.at(-1)?.aborted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(providerSignals.at(-1)?.aborted, "the provider's stream was told the client left");

    // Deleting the pod ends a follow on its own.
    const second = await api.get("/containerLogs/default/web/app?follow=1&tailLines=0");
    setTimeout(() => void api.provider.deletePod(makePod("web", ["app"]), signal), 200);
    assert.match(await second.text(), /terminated: mock provider terminated the container/);
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: /stats/summary has node stats and one entry per container", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("trio", ["a", "b", "c"]), signal);
    const response = await api.get("/stats/summary");
    assert.equal(response.status, 200);
    const summary: Summary = await response.json();
    assert.equal(summary.node.nodeName, nodeName);
    assert.ok(summary.node.cpu?.usageCoreNanoSeconds !== undefined);
    assert.ok(summary.node.memory?.workingSetBytes !== undefined);
    assert.ok(Date.parse(summary.node.startTime) > 0);
    const pod = summary.pods.find((p) =>
      p.podRef.namespace === "default" && p.podRef.name === "trio" && p.podRef.uid === "uid-trio"
    );
    assert.ok(pod);
    assert.equal(pod.containers.length, 3);
    for (const container of pod.containers) {
      assert.ok(container.cpu?.usageNanoCores !== undefined);
      assert.ok(container.memory?.workingSetBytes !== undefined);
      assert.ok(container.rootfs?.usedBytes !== undefined);
    }
    assert.equal(pod.network?.name, "eth0");
    assert.ok(pod["ephemeral-storage"]?.usedBytes !== undefined);
    assert.equal(api.asked.at(-1)?.subresource, "stats");
  } finally {
    await api.close();
  }
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Strict parser of the Prometheus text format 0.0.4, enough to catch malformed output. */
function parsePrometheusText(text: string): Map<string, { type: string; samples: Sample[] }> {
  const families = new Map<string, { type: string; samples: Sample[] }>();
  assert.ok(text.endsWith("\n"), "exposition ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      const family = families.get(name) ?? { type: "untyped", samples: [] };
      if (kind === "TYPE") {
        assert.ok(["counter", "gauge"].includes(rest), `type of ${name}`);
        assert.equal(family.samples.length, 0, `TYPE of ${name} precedes its samples`);
        family.type = rest;
      }
      families.set(name, family);
      continue;
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)(?: (-?\d+))?$/
        .exec(line);
    assert.ok(sample, `malformed sample line: ${line}`);
    const [, name, labelText = "", valueText] = sample;
    const value = Number(valueText);
    assert.ok(!Number.isNaN(value) || valueText === "NaN", `value of ${line}`);
    const labels: Record<string, string> = {};
    for (const match of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[match[1]] = match[2];
    }
    const family = families.get(name);
    assert.ok(family, `sample ${name} has a HELP/TYPE header`);
    family.samples.push({ name, labels, value });
  }
  return families;
}

Deno.test("kubelet API: /metrics/resource is Prometheus text with per-container series", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("trio", ["a", "b", "c"]), signal);
    await api.provider.createPod(makePod("solo", ["only"]), signal);
    const response = await api.get("/metrics/resource");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await response.text());
    for (
      const name of [
        "node_cpu_usage_seconds_total",
        "node_memory_working_set_bytes",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_start_time_seconds",
        "pod_cpu_usage_seconds_total",
        "pod_memory_working_set_bytes",
        "resource_scrape_error",
      ]
    ) {
      assert.ok(families.has(name), `family ${name}`);
    }
    assert.equal(families.get("node_cpu_usage_seconds_total")?.type, "counter");
    assert.equal(families.get("node_memory_working_set_bytes")?.type, "gauge");
    const trioCpu = families.get("container_cpu_usage_seconds_total")?.samples.filter((s) =>
      s.labels.pod === "trio"
    );
    assert.deepEqual(trioCpu?.map((s) => s.labels.container).sort(), ["a", "b", "c"]);
    for (const sample of trioCpu ?? []) assert.equal(sample.labels.namespace, "default");
    const podCpu = families.get("pod_cpu_usage_seconds_total")?.samples ?? [];
    // Like the upstream e2e suite: the second label of the pod series is the pod name.
    assert.ok(podCpu.some((s) => Object.values(s.labels)[1] === "trio"));
    assert.equal(families.get("resource_scrape_error")?.samples[0].value, 0);
    assert.equal(api.asked.at(-1)?.subresource, "metrics");
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: capabilities the provider lacks are 501 naming capability and provider", async () => {
  const minimal = bareProvider();
  const api = await startServer({ provider: minimal });
  try {
    const cases: Array<[string, RegExp]> = [
      ["/containerLogs/default/web/app", /provider "bare" does not implement ContainerLogs/],
      ["/stats/summary", /provider "bare" does not implement StatsSummary/],
      ["/metrics/resource", /provider "bare" does not implement MetricsResource/],
    ];
    for (const [path, pattern] of cases) {
      const response = await api.get(path);
      assert.equal(response.status, 501, path);
      assert.match(await response.text(), pattern);
    }
    const run = await fetch(`${api.url}/run/default/web/app?cmd=ls`, {
      method: "POST",
      client: api.client(),
    });
    assert.equal(run.status, 501);
    assert.match(await run.text(), /provider "bare" does not implement ExecInContainer: \/run/);
    const list = await api.get("/pods");
    assert.equal(list.status, 200);
    assert.deepEqual((await list.json()).items, []);
  } finally {
    await api.close();
  }
});

Deno.test("kubelet API: without a configured certificate it serves a generated one", async () => {
  const certs = await pki();
  const provider = new MockProvider(parseMockConfig({}), {
    nodeName,
    operatingSystem: "linux",
    internalIp: "127.0.0.1",
    daemonPort: 10250,
  });
  const server = new KubeletApiServer({
    nodeName,
    provider,
    clientCaPem: certs.clientCa.certPem,
    certificateAddresses: ["127.0.0.1"],
    authenticator: createAuthenticator(),
    authorizer: createWebhookAuthorizer(() => Promise.resolve({ allowed: true, reason: "" })),
  });
  const { port } = await server.start({ port: 0, hostname: "127.0.0.1" });
  const servingCa = server.servingCaPem;
  assert.ok(servingCa);
  const client = Deno.createHttpClient({
    caCerts: [servingCa],
    cert: certs.alice.certPem,
    key: certs.alice.keyPem,
  });
  try {
    const response = await fetch(`https://127.0.0.1:${port}/pods`, { client });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).kind, "PodList");
  } finally {
    client.close();
    await server.close();
  }
});
