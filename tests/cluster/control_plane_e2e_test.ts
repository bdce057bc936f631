/**
 * Shows that the test control plane is a real one: the real scheduler binds a
 * pod to a Ready node, and the real node-lifecycle controller marks a node
 * whose Lease stops being renewed NotReady within its grace period.
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import {
  formatMicroTime,
  KubeClient,
  LEASES,
  loadKubeConfig,
  NODES,
  PODS,
} from "../../lib/kube/mod.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { cluster, freshNamespace, kubectlJson, waitFor } from "../_harness/cluster.ts";

async function client(): Promise<KubeClient> {
  return new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
    qps: 50,
    burst: 100,
  });
}

function testNode(name: string, taintKey: string): Node {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "vkedge.test/e2e": "true" } },
    spec: { taints: [{ key: taintKey, value: "true", effect: "NoSchedule" }] },
    status: {
      capacity: { cpu: "4", memory: "8Gi", pods: "10" },
      allocatable: { cpu: "4", memory: "8Gi", pods: "10" },
      conditions: [{
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "test node is ready",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      }],
      addresses: [{ type: "Hostname", address: name }],
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion: "v1.36.3",
        kubeProxyVersion: "",
        containerRuntimeVersion: "test://0",
        bootID: "",
        kernelVersion: "",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
}

async function registerNode(kube: KubeClient, node: Node): Promise<Node> {
  const created = await kube.resource<Node>(NODES).create(node);
  // Set the status through its subresource as a kubelet does, with a patch,
  // since the controller-manager is already updating the node.
  return await kube.resource<Node>(NODES).patchStatus(created.metadata!.name!, {
    status: node.status,
  }, { type: "strategic" });
}

async function renewLease(kube: KubeClient, node: Node): Promise<void> {
  const leases = kube.resource<Lease>(LEASES, "kube-node-lease");
  const name = node.metadata!.name!;
  const spec = {
    holderIdentity: name,
    leaseDurationSeconds: 40,
    renewTime: formatMicroTime(new Date()),
  };
  try {
    const lease = await leases.get(name);
    await leases.update({ ...lease, spec: { ...lease.spec, ...spec } });
  } catch {
    await leases.create({
      metadata: {
        name,
        namespace: "kube-node-lease",
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata!.uid! }],
      },
      spec,
    });
  }
}

Deno.test("the real scheduler binds a tolerating pod without nodeName to a Ready test node", async () => {
  const kube = await client();
  const ns = await freshNamespace("sched");
  const nodeName = `sched-node-${Date.now().toString(36)}`;
  const taintKey = `vkedge.test/${nodeName}`;
  const node = await registerNode(kube, testNode(nodeName, taintKey));
  try {
    await renewLease(kube, node);
    await kube.resource<Pod>(PODS, ns).create({
      metadata: { name: "bound-by-scheduler" },
      spec: {
        containers: [{ name: "c", image: "example.invalid/none" }],
        tolerations: [{ key: taintKey, operator: "Exists", effect: "NoSchedule" }],
        // Only our node may take it: other tests register nodes too.
        nodeSelector: { "kubernetes.io/hostname": nodeName },
      },
    });
    await waitFor("the scheduler to bind the pod", async () => {
      const pod = await kubectlJson<Pod>(["get", "pod", "bound-by-scheduler", "-n", ns]);
      return pod.spec?.nodeName === nodeName;
    }, { timeoutMs: 45_000 });
    const pod = await kubectlJson<Pod>(["get", "pod", "bound-by-scheduler", "-n", ns]);
    const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    assertEquals(scheduled?.status, "True");
  } finally {
    await kube.resource<Node>(NODES).delete(nodeName).catch(() => undefined);
    kube.close();
  }
});

Deno.test("the real node-lifecycle controller marks a node NotReady when its Lease is not renewed", async () => {
  const kube = await client();
  const nodeName = `lease-node-${Date.now().toString(36)}`;
  const node = await registerNode(kube, testNode(nodeName, `vkedge.test/${nodeName}`));
  try {
    await renewLease(kube, node);
    const stoppedAt = Date.now();
    // kube-controller-manager's default --node-monitor-grace-period is 50 s;
    // it checks every 5 s.
    await waitFor("the node's Ready condition to become Unknown", async () => {
      const current = await kube.resource<Node>(NODES).get(nodeName);
      const ready = current.status?.conditions?.find((c) => c.type === "Ready");
      return ready?.status === "Unknown";
    }, { timeoutMs: 90_000, intervalMs: 1000 });
    const elapsed = (Date.now() - stoppedAt) / 1000;
    const current = await kube.resource<Node>(NODES).get(nodeName);
    const ready = current.status!.conditions!.find((c) => c.type === "Ready")!;
    assertEquals(ready.reason, "NodeStatusUnknown");
    assert(elapsed >= 40, `NotReady after ${elapsed} s: sooner than the grace period allows`);
    // The taint comes from the controller's own tainting pass, a moment after the condition.
    let taints: string[] = [];
    await waitFor("the unreachable taint", async () => {
      const tainted = await kube.resource<Node>(NODES).get(nodeName);
      taints = (tainted.spec?.taints ?? []).map((t) => t.key);
      return taints.includes("node.kubernetes.io/unreachable");
    }, { timeoutMs: 30_000, intervalMs: 1000 }).catch((error) => {
      throw new Error(`expected the unreachable taint, found ${taints.join(", ")}`, {
        cause: error,
      });
    });
  } finally {
    await kube.resource<Node>(NODES).delete(nodeName).catch(() => undefined);
    kube.close();
  }
});
