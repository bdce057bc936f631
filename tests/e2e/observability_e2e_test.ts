/**
 * What the agent tells, as an operator reads it: `/metrics` on `--metrics-addr` parses as
 * Prometheus text and counts what happened (provider calls by method and outcome, pod
 * syncs, the work queue, API requests, the node's readiness, its leases), `/healthz` and
 * `/readyz` answer; JSON log lines carry node and pod keys, the start-up lines name
 * version, API server, node, provider and settings; and at `--log-level=debug`, with a
 * zstack configuration, a bearer token kubeconfig and a pod with Secret env and user data,
 * no log line holds a secret, nor do the kubelet API's `/pods` and `/runningpods/`.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, freshNamespace, kubectl, kubectlResult } from "../_harness/cluster.ts";
import {
  freePort,
  kubeletGet,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { findSamples, parsePrometheusText, sampleValue } from "../_harness/prometheus.ts";
import { apply, podManifest, waitRunning } from "../_harness/pods.ts";
import { vmPod, withZStackNode } from "../_harness/zstack.ts";
import { waitFor } from "../_harness/cluster.ts";

interface JsonLine {
  level: string;
  message: string;
  logger: string;
  fields: Record<string, unknown>;
}

function jsonLines(output: string): JsonLine[] {
  return output.split("\n").filter((line) => line.startsWith("{")).map((line) =>
    JSON.parse(line) as JsonLine
  );
}

async function scrape(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assertEquals(response.status, 200);
  assertStringIncludes(response.headers.get("content-type") ?? "", "text/plain; version=0.0.4");
  return parsePrometheusText(await response.text());
}

Deno.test("metrics: /metrics parses as Prometheus text and counts the pods created and deleted, /healthz and /readyz answer; JSON logs carry node and pod", async () => {
  const nodeName = uniqueNodeName("vk-metrics");
  const port = freePort();
  const agent = await startAgent({
    nodeName,
    extraArgs: [`--metrics-addr=127.0.0.1:${port}`, "--log-format=json"],
  });
  try {
    await waitForNodeReady(agent);
    await waitFor("/readyz 200", async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return response.status === 200 && (await response.text()) === "ready\n";
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals([health.status, await health.text()], [200, "ok\n"]);
    const ns = await freshNamespace("metrics");
    for (const name of ["one", "two"]) await apply(ns, podManifest(name, nodeName));
    for (const name of ["one", "two"]) await waitRunning(ns, name);
    await kubectl(["delete", "pod", "one", "-n", ns, "--wait=true", "--timeout=30s"]);

    const families = await scrape(port);
    const count = (name: string, labels: Record<string, string>) =>
      sampleValue(families, name, labels);
    assertEquals(
      count("vkedge_provider_requests_total", {
        method: "createPod",
        outcome: "success",
      }),
      2,
    );
    assertEquals(
      count("vkedge_provider_requests_total", {
        method: "deletePod",
        outcome: "success",
      }),
      1,
    );
    assert(count("vkedge_provider_request_duration_seconds_count", { method: "createPod" }) === 2);
    assert(count("vkedge_provider_requests_total", { method: "ping", outcome: "success" }) >= 1);
    assert(count("vkedge_pod_sync_duration_seconds_count", { outcome: "success" }) >= 3);
    assert(count("vkedge_workqueue_adds_total", { name: "pod-sync" }) >= 3);
    assert(findSamples(families, "vkedge_workqueue_depth", { name: "pod-sync" }).length === 1);
    assertEquals(count("vkedge_node_ready", {}), 1);
    assertEquals(count("vkedge_leader_election_is_leader", {}), 1);
    assert(count("vkedge_leader_election_renewals_total", { outcome: "success" }) >= 1);
    assert(count("vkedge_node_lease_renewals_total", { outcome: "success" }) >= 1);
    const statusPatches = findSamples(families, "vkedge_kube_requests_total", {
      verb: "PATCH",
      resource: "pods/status",
      code: "200",
    });
    assert(statusPatches.reduce((sum, s) => sum + s.value, 0) >= 2, JSON.stringify(statusPatches));
    assert(findSamples(families, "vkedge_kube_rate_limiter_wait_seconds_count").length >= 1);
    assertEquals(families.get("vkedge_reflector_watch_restarts_total")?.type, "counter");

    const lines = jsonLines(await agent.output());
    assert(lines.every((line) => line.fields.node === nodeName), "every line has the node key");
    const created = lines.filter((line) => line.message.includes("created in provider"));
    assertEquals(created.map((line) => line.fields.pod).sort(), [`${ns}/one`, `${ns}/two`]);
    assertEquals(created.every((line) => line.level === "INFO"), true);
    const deleted = lines.filter((line) => /deleted in provider/.test(line.message));
    assertEquals(deleted.map((line) => line.fields.pod), [`${ns}/one`]);
    const [start, settings] = lines.filter((line) => line.logger === "vkedge.agent");
    assertStringIncludes(start.message, "starting: node");
    assertEquals(start.fields.provider, "mock");
    assertEquals(start.fields.server, (await cluster()).server);
    assertStringIncludes(String(start.fields.version), "(commit ");
    assertStringIncludes(String(settings.fields.settings), "pod-sync-workers=10");
    assertStringIncludes(String(settings.fields.settings), `metrics-addr=127.0.0.1:${port}`);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
});

Deno.test("secrets: at --log-level=debug no log line holds the kube token, the ZStack password, a Secret value or user data, and /pods and /runningpods/ show valueFrom", async () => {
  const c = await cluster();
  const kubeconfig = parseYaml(await Deno.readTextFile(c.tokenKubeconfig)) as {
    users: { user: { token: string } }[];
  };
  const token = kubeconfig.users[0].user.token;
  const secretValue = `s3cret-${crypto.randomUUID()}`;
  const fromEnvFrom = `envfrom-${crypto.randomUUID()}`;
  const userData = `userdata-${crypto.randomUUID()}`;
  // What the zstack provider sends instead of the password: it logs in with it.
  const passwordHash = [
    ...new Uint8Array(
      await crypto.subtle.digest("SHA-512", new TextEncoder().encode("password")),
    ),
  ].map((b) => b.toString(16).padStart(2, "0")).join("");
  await withZStackNode("zs-secrets", async (node) => {
    const { ns, nodeName } = node;
    await kubectl([
      "create",
      "secret",
      "generic",
      "db",
      "-n",
      ns,
      `--from-literal=password=${secretValue}`,
      `--from-literal=OTHER=${fromEnvFrom}`,
    ]);
    const agent = await node.start();
    const pod = vmPod("vm", nodeName, {
      annotations: { "zstack.vkedge.io/user-data": `#cloud-config\nwrite_files: [${userData}]\n` },
      container: {
        env: [{
          name: "DB_PASSWORD",
          valueFrom: { secretKeyRef: { name: "db", key: "password" } },
        }],
        envFrom: [{ secretRef: { name: "db" } }],
      },
    });
    await apply(ns, pod);
    await waitRunning(ns, "vm");
    for (const path of ["/pods", "/runningpods/"]) {
      const body = await (await kubeletGet(agent, path)).text();
      assertEquals(body.includes(secretValue) || body.includes(fromEnvFrom), false, path);
      const served = (JSON.parse(body).items as Pod[]).find((p) => p.metadata?.name === "vm");
      assertEquals(
        served?.spec?.containers[0].env?.[0].valueFrom?.secretKeyRef?.name,
        "db",
        `${path} serves the pod as the API server holds it`,
      );
    }
    await kubectl(["delete", "pod", "vm", "-n", ns, "--wait=true", "--timeout=60s"]);
    await agent.stop();
    const output = await agent.output();
    const lines = output.split("\n");
    assert(lines.filter((line) => line.includes("[DBG]")).length > 20, "debug lines were written");
    for (
      const [what, secret] of [
        ["the kube token", token],
        ["the Secret value", secretValue],
        ["the envFrom Secret value", fromEnvFrom],
        ["the user data", userData],
        ["the ZStack password's hash", passwordHash],
      ]
    ) {
      const leaks = lines.filter((line) => line.includes(secret));
      assertEquals(leaks, [], `${what} appears in the log`);
    }
    const bare = lines.filter((line) => /(?<![A-Za-z_])password(?![A-Za-z_])/.test(line));
    assertEquals(bare, [], "the ZStack password appears in the log");
  }, { extraArgs: ["--log-level=debug", `--kubeconfig=${c.tokenKubeconfig}`] });
});
