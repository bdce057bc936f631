// The kubernetes provider against a real lower cluster (a second control plane with kwok):
// exec and follow-logs through its API, the ConfigMap/Secret copies, ownership between two
// upper clusters, pods deleted or failed below, capacity changes, updates.

import type { ConfigMap, Node, Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import { AlreadyExistsError, UnauthenticatedError } from "../../../lib/provider.ts";
import { assert, assertEquals, assertRejects } from "../../_harness/assert.ts";
import { waitFor } from "../../_harness/cluster.ts";
import {
  criLogLine,
  LOWER_NODE_ALLOCATABLE,
  lowerCluster,
  lowerKubectl,
  lowerKubectlJson,
  lowerKubectlResult,
} from "../../_harness/lower_cluster.ts";
import { lowerRbacKubeconfig } from "../../_harness/kubernetes.ts";
import { backend, upperPod } from "./_backend.ts";

const signal = new AbortController().signal;

function text(chunks: Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("");
}

function collector(): { stream: WritableStream<Uint8Array>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
    text: () => text(chunks),
  };
}

async function* oneSize(size: { width: number; height: number }) {
  yield size;
}

async function running(
  provider: { getPod(ns: string, name: string, s: AbortSignal): Promise<Pod | undefined> },
  name: string,
  namespace = "default",
): Promise<Pod> {
  let found: Pod | undefined;
  await waitFor(`${namespace}/${name} Running`, async () => {
    found = await provider.getPod(namespace, name, signal);
    return found?.status?.phase === "Running";
  }, { timeoutMs: 20_000, intervalMs: 100 });
  return found!;
}

Deno.test("kubernetes provider: exec runs in the lower pod with stdout, stderr, stdin and the exit code", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    const pod = upperPod("shell", { nodeName: test.nodeName });
    await provider.createPod(pod, signal);
    await running(provider, "shell");
    const ref = { namespace: "default", pod: "shell", container: "app" };
    const out = collector();
    const err = collector();
    const code = await provider.runInContainer(ref, {
      command: ["sh", "-c", "echo out; echo err >&2; exit 3"],
      streams: { tty: false, stdout: out.stream, stderr: err.stream },
    }, signal);
    assertEquals([code, out.text(), err.text()], [3, "out\n", "err\n"]);

    // kwok never closes a command's stdin when the client's ends (kubectl exec -i hangs on
    // `cat` there too), so the command reads one line.
    const echoed = collector();
    const input = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("through stdin\n"));
        controller.close();
      },
    });
    assertEquals(
      await provider.runInContainer(ref, {
        command: ["sh", "-c", 'read line; echo "got $line"'],
        streams: { tty: false, stdin: input, stdout: echoed.stream },
      }, signal),
      0,
    );
    assertEquals(echoed.text(), "got through stdin\n");

    // A terminal, as kubectl exec -it asks for it (kwok needs stdin with a TTY, open for the
    // whole session): stdout carries both streams, and the client's size reaches it. The
    // provider lets go of input still open when the session ends.
    const terminal = collector();
    assertEquals(
      await provider.runInContainer(ref, {
        // kwok's terminal drops what a command writes just before it exits: hence the sleeps.
        command: ["sh", "-c", "sleep 1; stty size; echo oops >&2; sleep 1"],
        streams: {
          tty: true,
          stdin: new ReadableStream<Uint8Array>(),
          stdout: terminal.stream,
          resize: oneSize({ width: 123, height: 45 }),
        },
      }, signal),
      0,
    );
    assertEquals(terminal.text().replaceAll("\r", ""), "45 123\noops\n");

    assertEquals(
      await provider.runInContainer(ref, {
        command: ["no-such-command-here"],
        streams: { tty: false, stdout: collector().stream },
      }, signal),
      127,
    );
    await assertRejects(
      () =>
        provider.runInContainer({ ...ref, container: "nope" }, {
          command: ["true"],
          streams: { tty: false },
        }, signal),
      Error,
      'has no container "nope"',
    );
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: logs follow the lower pod's log as lines are written", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    await provider.createPod(upperPod("talker", { nodeName: test.nodeName }), signal);
    await running(provider, "talker");
    const file = `${test.lower.dir}/pod-logs/${test.clusterName}-talker.log`;
    await Deno.writeTextFile(file, criLogLine("first line"));
    await lowerKubectl(
      test.lower,
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Logs",
        metadata: { name: "talker", namespace: test.lowerNamespace("default") },
        spec: { logs: [{ logsFile: file, follow: true }] },
      }),
    );
    const ref = { namespace: "default", pod: "talker", container: "app" };
    await waitFor("the Logs object in force", async () => {
      const log = await new Response(await provider.getContainerLogs(ref, {}, signal)).text();
      return log === "first line\n";
    }, { timeoutMs: 15_000 });
    const stop = new AbortController();
    const stream = await provider.getContainerLogs(ref, { follow: true }, stop.signal);
    const reader = stream.getReader();
    let seen = "";
    const decoder = new TextDecoder();
    const readUntil = async (wanted: string) => {
      while (!seen.includes(wanted)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`log ended before ${JSON.stringify(wanted)}: ${seen}`);
        seen += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("first line\n");
    await Deno.writeTextFile(file, criLogLine("second line"), { append: true });
    await readUntil("second line\n");
    stop.abort();
    await reader.cancel().catch(() => undefined);
    assertEquals(seen, "first line\nsecond line\n");
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: referenced ConfigMaps and Secrets are copied below, kept in sync and removed after", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    const configMap: ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { namespace: "default", name: "settings" },
      data: { color: "blue" },
    };
    const secret: Secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { namespace: "default", name: "creds" },
      type: "Opaque",
      data: { password: btoa("s3cret") },
    };
    test.cluster.put(configMap);
    test.cluster.put(secret);
    const pod = upperPod("configured", { nodeName: test.nodeName });
    pod.spec!.volumes = [{ name: "settings", configMap: { name: "settings" } }];
    pod.spec!.containers[0].env = [{ name: "PASSWORD", value: "s3cret" }];
    pod.spec!.containers[0].volumeMounts = [{ name: "settings", mountPath: "/etc/settings" }];
    const original = structuredClone(pod);
    original.spec!.containers[0].env = [{
      name: "PASSWORD",
      valueFrom: { secretKeyRef: { name: "creds", key: "password" } },
    }];
    test.cluster.pods.set("default/configured", original);
    await provider.createPod(pod, signal);
    const lowerNs = test.lowerNamespace("default");
    const copied = await lowerKubectlJson<ConfigMap>(test.lower, [
      "get",
      "configmap",
      "settings",
      "-n",
      lowerNs,
    ]);
    assertEquals(copied.data, { color: "blue" });
    const copiedSecret = await lowerKubectlJson<Secret>(test.lower, [
      "get",
      "secret",
      "creds",
      "-n",
      lowerNs,
    ]);
    assertEquals(atob(copiedSecret.data!.password), "s3cret");
    const lowerPod = await lowerKubectlJson<Pod>(test.lower, [
      "get",
      "pod",
      "configured",
      "-n",
      lowerNs,
    ]);
    assertEquals(lowerPod.spec?.containers[0].env, [{
      name: "PASSWORD",
      valueFrom: { secretKeyRef: { name: "creds", key: "password" } },
    }]);

    test.cluster.put({ ...configMap, data: { color: "green" } });
    await waitFor("the copy updated", async () => {
      const now = await lowerKubectlJson<ConfigMap>(test.lower, [
        "get",
        "configmap",
        "settings",
        "-n",
        lowerNs,
      ]);
      return now.data?.color === "green";
    }, { timeoutMs: 10_000 });
    // An edit below is written over.
    await lowerKubectl(test.lower, [
      "patch",
      "configmap",
      "settings",
      "-n",
      lowerNs,
      "-p",
      '{"data":{"color":"red"}}',
    ]);
    await waitFor("the edit below undone", async () => {
      const now = await lowerKubectlJson<ConfigMap>(test.lower, [
        "get",
        "configmap",
        "settings",
        "-n",
        lowerNs,
      ]);
      return now.data?.color === "green";
    }, { timeoutMs: 10_000 });

    await provider.deletePod(pod, signal);
    await waitFor("the copies removed", async () => {
      const left = await lowerKubectlResult(test.lower, [
        "get",
        "configmap,secret",
        "-n",
        lowerNs,
        "-l",
        "vkedge.io/cluster",
        "-o",
        "name",
      ]);
      return left.code === 0 && left.stdout.trim() === "";
    }, { timeoutMs: 15_000 });
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: a missing mandatory ConfigMap holds the pod back; another's object of that name is left alone", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    const pod = upperPod("needs-config", { nodeName: test.nodeName });
    pod.spec!.volumes = [{ name: "c", configMap: { name: "absent" } }];
    await assertRejects(() => provider.createPod(pod, signal), Error, "does not exist");
    assertEquals((await provider.getPods(signal)).length, 0);

    const lowerNs = test.lowerNamespace("default");
    await lowerKubectl(test.lower, [
      "create",
      "configmap",
      "theirs",
      "-n",
      lowerNs,
      "--from-literal=k=v",
    ]);
    test.cluster.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { namespace: "default", name: "theirs" },
      data: { k: "mine" },
    });
    const other = upperPod("uses-theirs", { nodeName: test.nodeName });
    other.spec!.volumes = [{ name: "c", configMap: { name: "theirs" } }];
    await assertRejects(() => provider.createPod(other, signal), Error, "it is left alone");
    const kept = await lowerKubectlJson<ConfigMap>(test.lower, [
      "get",
      "configmap",
      "theirs",
      "-n",
      lowerNs,
    ]);
    assertEquals(kept.data, { k: "v" });
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: two upper clusters mapping to one lower namespace never touch each other's pods", async () => {
  const same = { namespaces: { prefix: `shared${crypto.randomUUID().slice(0, 6)}-` } };
  const first = await backend(same);
  const second = await backend(same);
  try {
    const a = await first.provider();
    const b = await second.provider();
    await a.createPod(upperPod("web", { nodeName: first.nodeName }), signal);
    await running(a, "web");
    const error = await assertRejects(
      () => b.createPod(upperPod("web", { nodeName: second.nodeName }), signal),
      AlreadyExistsError,
    );
    assert(
      error.message.includes(`cluster ${first.clusterName} node ${first.nodeName}`),
      `the owner is named: ${error.message}`,
    );
    assertEquals((await b.getPods(signal)).length, 0);
    assertEquals(await b.getPod("default", "web", signal), undefined);
    await assertRejects(() => b.deletePod(upperPod("web"), signal), Error);
    assertEquals((await a.getPod("default", "web", signal))?.status?.phase, "Running");
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("kubernetes provider: a lower pod deleted below fails its upper pod; one failed by kwok reports the exit code", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    const seen: Pod[] = [];
    const stop = new AbortController();
    provider.notifyPods(stop.signal, (pod) => seen.push(pod));
    const victim = upperPod("victim", { nodeName: test.nodeName });
    test.cluster.pods.set("default/victim", victim);
    await provider.createPod(victim, signal);
    await running(provider, "victim");
    const lowerNs = test.lowerNamespace("default");
    await lowerKubectl(test.lower, ["delete", "pod", "victim", "-n", lowerNs, "--wait=false"]);
    await waitFor(
      "a Failed notification",
      () =>
        seen.some((pod) =>
          pod.metadata?.name === "victim" && pod.status?.phase === "Failed" &&
          pod.status.reason === "LowerPodDeleted"
        ),
      { timeoutMs: 15_000 },
    );
    assertEquals((await provider.getPod("default", "victim", signal))?.status?.phase, "Failed");

    const crasher = upperPod("crasher", { nodeName: test.nodeName });
    test.cluster.pods.set("default/crasher", crasher);
    await provider.createPod(crasher, signal);
    await running(provider, "crasher");
    await lowerKubectl(test.lower, [
      "annotate",
      "pod",
      "crasher",
      "-n",
      lowerNs,
      "pod-container-running-failed.stage.kwok.x-k8s.io/exit-code=42",
      "pod-container-running-failed.stage.kwok.x-k8s.io/delay=0",
    ]);
    await lowerKubectl(test.lower, [
      "label",
      "pod",
      "crasher",
      "-n",
      lowerNs,
      "pod-container-running-failed.stage.kwok.x-k8s.io=true",
    ]);
    let failed: Pod | undefined;
    await waitFor("crasher Failed", async () => {
      failed = await provider.getPod("default", "crasher", signal);
      return failed?.status?.phase === "Failed";
    }, { timeoutMs: 15_000 });
    assertEquals(failed?.status?.containerStatuses?.[0].state?.terminated?.exitCode, 42);
    stop.abort();
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: capacity is the lower nodes' allocatable minus others' requests, pushed on change", async () => {
  const test = await backend({ reserve: { cpu: "1" } });
  const hog = `hog-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const provider = await test.provider();
    const node = await provider.configureNode(
      { metadata: { name: test.nodeName }, status: {} },
      signal,
    );
    const cpu = Number(node.status?.capacity?.cpu?.replace(/m$/, "")) /
      (node.status?.capacity?.cpu?.endsWith("m") ? 1000 : 1);
    assert(cpu <= 2 * Number(LOWER_NODE_ALLOCATABLE.cpu), `capacity cpu ${cpu}`);
    const updates: Node[] = [];
    const stop = new AbortController();
    provider.notifyNodeStatus(stop.signal, (n) => updates.push(n));
    await lowerKubectl(
      test.lower,
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: hog, namespace: "default" },
        spec: {
          tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists" }],
          containers: [{ name: "hog", image: "x", resources: { requests: { cpu: "3" } } }],
        },
      }),
    );
    await waitFor("capacity 3 cpu lower", () =>
      updates.some((n) => {
        const value = n.status?.capacity?.cpu ?? "";
        const now = value.endsWith("m") ? Number(value.slice(0, -1)) / 1000 : Number(value);
        return Math.abs(cpu - now - 3) < 0.001;
      }), { timeoutMs: 20_000, intervalMs: 200 });
    const last = updates.at(-1)!;
    const allocatable = last.status?.allocatable?.cpu ?? "";
    const capacity = last.status?.capacity?.cpu ?? "";
    const value = (q: string) => q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q);
    assertEquals(value(capacity) - value(allocatable), 1);
    stop.abort();
  } finally {
    await lowerKubectlResult(test.lower, ["delete", "pod", hog, "-n", "default", "--wait=false"]);
    await test.close();
  }
});

Deno.test("kubernetes provider: an update changes labels and the image below, and reads back as given", async () => {
  const test = await backend();
  try {
    const provider = await test.provider();
    const pod = upperPod("web", { nodeName: test.nodeName });
    pod.metadata!.labels = { tier: "front", old: "yes" };
    await provider.createPod(pod, signal);
    await running(provider, "web");
    const updated: Pod = structuredClone(pod);
    updated.metadata!.labels = { tier: "back" };
    updated.spec!.containers[0].image = "busybox:1.37";
    await provider.updatePod(updated, signal);
    const lowerNs = test.lowerNamespace("default");
    const lower = await lowerKubectlJson<Pod>(test.lower, ["get", "pod", "web", "-n", lowerNs]);
    assertEquals(lower.metadata?.labels?.tier, "back");
    assertEquals(lower.metadata?.labels?.old, undefined);
    assertEquals(lower.metadata?.labels?.["vkedge.io/cluster"], test.clusterName);
    assertEquals(lower.spec?.containers[0].image, "busybox:1.37");
    await waitFor("the update read back", async () => {
      const view = await provider.getPod("default", "web", signal);
      return view?.metadata?.labels?.tier === "back" &&
        view.spec?.containers[0].image === "busybox:1.37";
    }, { timeoutMs: 10_000 });
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: the rules of deploy/kubernetes-lower-rbac.yaml are enough to run, exec, read logs and delete", async () => {
  const lower = await lowerCluster();
  const kubeconfig = await lowerRbacKubeconfig(
    lower,
    await Deno.makeTempFile({ suffix: ".kubeconfig" }),
  );
  const test = await backend({ kubeconfig });
  try {
    const provider = await test.provider();
    test.cluster.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { namespace: "default", name: "token" },
      data: { value: btoa("x") },
    });
    const pod = upperPod("limited", { nodeName: test.nodeName });
    pod.spec!.priorityClassName = "no-such-class";
    pod.spec!.volumes = [{ name: "t", secret: { secretName: "token" } }];
    await provider.createPod(pod, signal);
    await running(provider, "limited");
    const node = await provider.configureNode({ metadata: { name: test.nodeName } }, signal);
    assert(Number(node.status?.allocatable?.pods) > 0, "nodes readable");
    const out = collector();
    const code = await provider.runInContainer(
      { namespace: "default", pod: "limited", container: "app" },
      { command: ["echo", "allowed"], streams: { tty: false, stdout: out.stream } },
      signal,
    );
    assertEquals([code, out.text()], [0, "allowed\n"]);
    const log = await new Response(
      await provider.getContainerLogs({ namespace: "default", pod: "limited", container: "app" }, {
        tail: 1,
      }, signal),
    ).text();
    assertEquals(log.endsWith("\n"), true);
    await provider.deletePod(pod, signal);
    assertEquals((await provider.getPods(signal)).filter((p) => p.status?.phase === "Running"), []);
  } finally {
    await test.close();
  }
});

Deno.test("kubernetes provider: refused credentials fail the health check as UnauthenticatedError", async () => {
  const lower = await lowerCluster();
  const text = await Deno.readTextFile(lower.tokenKubeconfig);
  const kubeconfig = await Deno.makeTempFile({ suffix: ".kubeconfig" });
  await Deno.writeTextFile(kubeconfig, text.replace(/token: .*/, "token: not-a-valid-token"));
  const test = await backend({ kubeconfig });
  try {
    const provider = await test.provider();
    const error = await assertRejects(() => provider.ping(signal), UnauthenticatedError);
    assert(error.message.includes("does not accept the credentials"), error.message);
  } finally {
    await test.close();
    await Deno.remove(kubeconfig);
  }
});
