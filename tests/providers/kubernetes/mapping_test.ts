// The pure pod ↔ lower pod mapping: what goes below, what is dropped or translated, and
// that the upper view of a lower pod is the pod the agent handed over.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { providerRelevant } from "../../../lib/pods/compare.ts";
import { resolvePodEnv } from "../../../lib/pods/env.ts";
import {
  goneStatus,
  toLowerPod,
  toUpperPod,
  toUpperStatus,
  UPPER_POD_ANNOTATION,
} from "../../../providers/kubernetes/mapping.ts";
import { Ownership } from "../../../providers/kubernetes/ownership.ts";
import { assert, assertEquals } from "../../_harness/assert.ts";
import { MemoryCluster } from "./_backend.ts";

const ownership = await Ownership.create("central", "edge-1");

function upperPod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "shop",
      name: "web-1",
      uid: "uid-1",
      labels: { app: "web", "vkedge.io/owner": "forged" },
      annotations: { note: "kept" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "rs" }],
      resourceVersion: "42",
    },
    spec: {
      nodeName: "edge-1",
      nodeSelector: { "kubernetes.io/role": "agent" },
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{
            weight: 1,
            podAffinityTerm: { topologyKey: "kubernetes.io/hostname" },
          }],
        },
      },
      serviceAccountName: "builder",
      priority: 1000,
      priorityClassName: "high",
      preemptionPolicy: "PreemptLowerPriority",
      schedulerName: "upper-scheduler",
      hostAliases: [{ ip: "10.0.0.1", hostnames: ["db"] }],
      readinessGates: [{ conditionType: "example.com/ready" }],
      tolerations: [
        { key: "virtual-kubelet.io/provider", operator: "Exists", effect: "NoSchedule" },
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
      ],
      volumes: [
        {
          name: "kube-api-access-abcde",
          projected: { sources: [{ serviceAccountToken: { path: "token" } }] },
        },
        { name: "config", configMap: { name: "web-config" } },
      ],
      containers: [{
        name: "app",
        image: "nginx:1.27",
        env: [
          { name: "MODE", value: "prod" },
          { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
          { name: "COLOR", valueFrom: { configMapKeyRef: { name: "web-config", key: "color" } } },
        ],
        envFrom: [{ configMapRef: { name: "web-config" }, prefix: "CFG_" }],
        volumeMounts: [
          { name: "kube-api-access-abcde", mountPath: "/var/run/secrets/kubernetes.io" },
          { name: "config", mountPath: "/etc/web" },
        ],
      }],
    },
  };
}

function upperObjects(): MemoryCluster {
  const cluster = new MemoryCluster();
  cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "shop", name: "web-config" },
    data: { color: "blue", size: "L" },
  });
  cluster.put({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: "shop", name: "db" },
    data: { password: btoa("s3cret") },
  });
  return cluster;
}

/** The pod as the agent hands it to the provider: environment resolved. */
function resolved(pod: Pod, cluster: MemoryCluster): Pod {
  return resolvePodEnv(pod, {
    getConfigMap: (namespace, name) => cluster.getConfigMap(namespace, name),
    getSecret: (namespace, name) => cluster.getSecret(namespace, name),
    listServices: () => [],
  });
}

function lowerOf(pod: Pod, cluster: MemoryCluster, priorityClassExists = false): Pod {
  return toLowerPod(resolved(pod, cluster), {
    ownership,
    namespace: "central-shop",
    nodeSelector: { site: "edge-1" },
    tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
    upperTaintKeys: ["virtual-kubelet.io/provider"],
    original: pod,
    objects: cluster,
    priorityClassExists,
  });
}

Deno.test("mapping: the lower pod keeps the name, goes to the mapped namespace and carries the ownership labels", () => {
  const lower = lowerOf(upperPod(), upperObjects());
  assertEquals(lower.metadata?.name, "web-1");
  assertEquals(lower.metadata?.namespace, "central-shop");
  assertEquals(lower.metadata?.labels, {
    app: "web",
    "vkedge.io/owner": ownership.id,
    "vkedge.io/cluster": "central",
    "vkedge.io/node": "edge-1",
    "vkedge.io/pod-namespace": "shop",
    "vkedge.io/pod-uid": "uid-1",
  });
  assertEquals(lower.metadata?.annotations?.note, "kept");
  assertEquals(lower.metadata?.annotations?.["vkedge.io/pod-name"], "web-1");
  assertEquals(lower.metadata?.ownerReferences, undefined);
  assertEquals(lower.metadata?.resourceVersion, undefined);
  assertEquals(lower.metadata?.uid, undefined);
});

Deno.test("mapping: upper-only scheduling, identity and token fields are dropped or translated", () => {
  const spec = lowerOf(upperPod(), upperObjects()).spec!;
  assertEquals(spec.nodeName, undefined);
  assertEquals(spec.nodeSelector, { site: "edge-1" });
  assertEquals(spec.affinity?.nodeAffinity, undefined);
  assert(spec.affinity?.podAntiAffinity !== undefined, "pod anti-affinity is kept");
  assertEquals(spec.tolerations, [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" },
  ]);
  assertEquals(spec.serviceAccountName, "default");
  assertEquals(spec.automountServiceAccountToken, false);
  assertEquals(spec.enableServiceLinks, false);
  assertEquals(spec.volumes?.map((v) => v.name), ["config"]);
  assertEquals(spec.containers[0].volumeMounts?.map((m) => m.name), ["config"]);
  assertEquals(
    [spec.hostAliases, spec.priority, spec.priorityClassName, spec.preemptionPolicy],
    [undefined, undefined, undefined, undefined],
  );
  assertEquals(spec.schedulerName, undefined);
  assertEquals(spec.readinessGates, undefined);
  assertEquals(lowerOf(upperPod(), upperObjects(), true).spec?.priorityClassName, "high");
});

Deno.test("mapping: variables from ConfigMap and Secret keys become references below, others stay values", () => {
  const env = lowerOf(upperPod(), upperObjects()).spec!.containers[0].env!;
  const byName = Object.fromEntries(env.map((v) => [v.name, v]));
  assertEquals(byName.MODE, { name: "MODE", value: "prod" });
  assertEquals(byName.PASSWORD, {
    name: "PASSWORD",
    valueFrom: { secretKeyRef: { name: "db", key: "password" } },
  });
  assertEquals(byName.COLOR.valueFrom?.configMapKeyRef, { name: "web-config", key: "color" });
  assertEquals(byName.CFG_size.valueFrom?.configMapKeyRef, { name: "web-config", key: "size" });
  assertEquals(lowerOf(upperPod(), upperObjects()).spec!.containers[0].envFrom, undefined);
  assert(
    !JSON.stringify(lowerOf(upperPod(), upperObjects())).includes("s3cret"),
    "no Secret value in the lower pod",
  );
});

Deno.test("mapping: the upper view of the lower pod is what the agent handed over", () => {
  const cluster = upperObjects();
  const given = resolved(upperPod(), cluster);
  const lower = { ...lowerOf(upperPod(), cluster), status: { phase: "Running" } };
  const view = toUpperPod(lower, cluster)!;
  assertEquals(providerRelevant(view), providerRelevant(given));
  assertEquals(view.metadata?.uid, "uid-1");
  assertEquals(view.metadata?.namespace, "shop");
  assertEquals(view.spec?.nodeName, "edge-1");
});

Deno.test("mapping: a changed ConfigMap value reads back as the value the agent now resolves", () => {
  const cluster = upperObjects();
  const lower = lowerOf(upperPod(), cluster);
  cluster.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "shop", name: "web-config" },
    data: { color: "green", size: "L" },
  });
  assertEquals(
    providerRelevant(toUpperPod(lower, cluster)!),
    providerRelevant(resolved(upperPod(), cluster)),
  );
});

Deno.test("mapping: a lower pod without the record or ownership annotations has no upper view", () => {
  const lower = lowerOf(upperPod(), upperObjects());
  delete lower.metadata!.annotations![UPPER_POD_ANNOTATION];
  assertEquals(toUpperPod(lower, upperObjects()), undefined);
});

Deno.test("mapping: status comes up with IPs and restart counts, without the lower PodScheduled", () => {
  const upper = resolved(upperPod(), upperObjects());
  const status = toUpperStatus({
    metadata: {},
    status: {
      phase: "Running",
      podIP: "10.244.0.7",
      podIPs: [{ ip: "10.244.0.7" }],
      hostIP: "192.168.5.2",
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "Ready", status: "True" },
      ],
      containerStatuses: [{
        name: "app",
        image: "nginx:1.27",
        imageID: "",
        ready: true,
        restartCount: 3,
        state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
      }],
    },
  }, upper);
  assertEquals(status.phase, "Running");
  assertEquals([status.podIP, status.hostIP], ["10.244.0.7", "192.168.5.2"]);
  assertEquals(status.conditions?.map((c) => c.type), ["Ready"]);
  assertEquals(status.containerStatuses?.[0].restartCount, 3);
  assertEquals(status.qosClass, "BestEffort");
});

Deno.test("mapping: an unschedulable lower pod stays Pending and says why", () => {
  const status = toUpperStatus({
    status: {
      phase: "Pending",
      conditions: [{
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/2 nodes are available: 2 Insufficient cpu.",
      }],
    },
  }, upperPod());
  assertEquals(status.phase, "Pending");
  assertEquals(
    status.message,
    "waiting for the lower cluster's scheduler: 0/2 nodes are available: 2 Insufficient cpu.",
  );
  assertEquals(status.containerStatuses?.[0].state?.waiting?.reason, "ContainerCreating");
});

Deno.test("mapping: a lower pod deleted by someone else fails the upper pod; one deleted by us succeeds", () => {
  const upper = upperPod();
  const lower: Pod = {
    metadata: { namespace: "central-shop", name: "web-1" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [{
        name: "app",
        image: "nginx:1.27",
        imageID: "",
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
      }],
    },
  };
  const now = new Date("2026-01-01T00:01:00Z");
  const lost = goneStatus(lower, upper, "lost", now);
  assertEquals([lost.phase, lost.reason], ["Failed", "LowerPodDeleted"]);
  assertEquals(lost.containerStatuses?.[0].state?.terminated?.exitCode, 137);
  assertEquals(lost.conditions?.find((c) => c.type === "Ready")?.status, "False");
  const deleted = goneStatus(lower, upper, "deleted", now);
  assertEquals(deleted.phase, "Succeeded");
  assertEquals(deleted.containerStatuses?.[0].state?.terminated?.reason, "Completed");
  const finished = goneStatus(
    { ...lower, status: { ...lower.status, phase: "Failed" } },
    upper,
    "lost",
    now,
  );
  assertEquals(finished.phase, "Failed");
  assertEquals(finished.reason, undefined);
});
