/**
 * Counting one agent's Kubernetes API requests by verb and resource while other agents
 * run beside it on the same control plane. `apiserver_request_total` has no client label,
 * so the agent runs as a ServiceAccount of its own (bound to `cluster-admin`), and one
 * FlowSchema per verb and resource matches only that ServiceAccount: the API server's
 * `apiserver_flowcontrol_dispatched_requests_total` of each is the count. One more
 * FlowSchema, matched last, counts the agent's requests no other one names as `other`.
 *
 * The FlowSchemas send their requests to the `exempt` priority level, where the admin's
 * requests go too: the API server queues and limits the agent exactly as before, and the
 * count needs no subtraction of the control plane's background. Watches are counted when
 * they start.
 *
 * @module
 */

import type { KubeClient } from "../lib/kube/mod.ts";
import { cluster, kubectl, kubectlResult } from "../tests/_harness/cluster.ts";
import { serviceAccountKubeconfig } from "../tests/_harness/kubernetes.ts";
import type { RequestCounts } from "./_api_requests.ts";

/** The namespace of the agents' ServiceAccounts. */
const NAMESPACE = "vkedge-bench";

/** The label on every object made for one identity, to delete them together. */
const LABEL = "bench.vkedge.io/agent";

/** API verbs, and the names `apiserver_request_total` gives them. */
const VERBS: Record<string, string> = {
  get: "GET",
  list: "LIST",
  watch: "WATCH",
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETECOLLECTION",
};

/** Resources (with subresource) an agent of the benchmarks is known to use. */
const RESOURCES = [
  "pods",
  "pods/status",
  "nodes",
  "nodes/status",
  "leases",
  "events",
  "configmaps",
  "secrets",
  "services",
  "namespaces",
  "persistentvolumeclaims",
  "persistentvolumes",
  "storageclasses",
  "endpointslices",
  "customresourcedefinitions",
  "virtualmachines",
  "virtualmachinesnapshots",
  "virtualmachinerestores",
  "virtualmachinemigrations",
  "tokenreviews",
  "subjectaccessreviews",
];

/** Before every FlowSchema of the control plane but `exempt` (1) and `probes` (2). */
const PRECEDENCE = 10;

/** An agent's own identity and the counts of what it sent. */
export interface CountedIdentity {
  /** A kubeconfig with the ServiceAccount's token, for the agent. */
  kubeconfig: string;
  /** The agent's requests so far, by `VERB resource[/subresource]` (and `other`). */
  counts(): Promise<RequestCounts>;
  /** Deletes the ServiceAccount, its binding and its FlowSchemas. */
  remove(): Promise<void>;
}

/** What a FlowSchema of {@linkcode flowSchema} matches, and where it sends it. */
export interface FlowSchemaOptions {
  name: string;
  /** The ServiceAccount whose requests it matches. */
  serviceAccount: { namespace: string; name: string };
  precedence: number;
  /** Its priority level (`exempt`: not queued, as an admin's requests). */
  priorityLevel: string;
  verbs: string[];
  /** Resources with subresource (`pods/status`), `*`, or none: non-resource URLs. */
  resources: string[];
  labels?: Record<string, string>;
}

/** A FlowSchema matching one ServiceAccount's requests of `verbs` on `resources`. */
export function flowSchema(options: FlowSchemaOptions): unknown {
  const { verbs, resources } = options;
  return {
    apiVersion: "flowcontrol.apiserver.k8s.io/v1",
    kind: "FlowSchema",
    metadata: { name: options.name, labels: options.labels ?? {} },
    spec: {
      matchingPrecedence: options.precedence,
      priorityLevelConfiguration: { name: options.priorityLevel },
      ...(options.priorityLevel === "exempt" ? {} : { distinguisherMethod: { type: "ByUser" } }),
      rules: [{
        subjects: [{ kind: "ServiceAccount", serviceAccount: options.serviceAccount }],
        ...(resources.length > 0
          ? {
            resourceRules: [{
              verbs,
              apiGroups: ["*"],
              resources,
              clusterScope: true,
              namespaces: ["*"],
            }],
            ...(resources[0] === "*"
              ? { nonResourceRules: [{ verbs, nonResourceURLs: ["*"] }] }
              : {}),
          }
          : { nonResourceRules: [{ verbs, nonResourceURLs: ["*"] }] }),
      }],
    },
  };
}

/** Requests dispatched so far by FlowSchema name, from the API server's `/metrics` text. */
export function dispatchedByFlowSchema(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("apiserver_flowcontrol_dispatched_requests_total{")) continue;
    const schema = /flow_schema="([^"]*)"/.exec(line)?.[1] ?? "";
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    counts.set(schema, (counts.get(schema) ?? 0) + value);
  }
  return counts;
}

/**
 * Makes the ServiceAccount `id` (a DNS label, unique per run) with `cluster-admin` and its
 * FlowSchemas, writing its kubeconfig into `dir`.
 */
export async function countedIdentity(
  kube: KubeClient,
  id: string,
  dir: string,
): Promise<CountedIdentity> {
  const keyOf = new Map<string, string>();
  const schema = (
    name: string,
    key: string,
    precedence: number,
    verbs: string[],
    resources: string[],
  ) => {
    keyOf.set(name, key);
    return flowSchema({
      name,
      serviceAccount: { namespace: NAMESPACE, name: id },
      precedence,
      priorityLevel: "exempt",
      verbs,
      resources,
      labels: { [LABEL]: id },
    });
  };
  const objects: unknown[] = [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: id, namespace: NAMESPACE, labels: { [LABEL]: id } },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: id, labels: { [LABEL]: id } },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "cluster-admin",
      },
      subjects: [{ kind: "ServiceAccount", namespace: NAMESPACE, name: id }],
    },
  ];
  for (const [verb, label] of Object.entries(VERBS)) {
    for (const resource of RESOURCES) {
      const name = `${id}.${verb}.${resource.replace("/", ".")}`;
      objects.push(schema(name, `${label} ${resource}`, PRECEDENCE, [verb], [resource]));
    }
  }
  objects.push(schema(`${id}.non-resource`, "non-resource", PRECEDENCE, ["*"], []));
  objects.push(schema(`${id}.other`, "other", PRECEDENCE + 1, ["*"], ["*"]));

  const c = await cluster();
  if ((await kubectlResult(["get", "namespace", NAMESPACE])).code !== 0) {
    await kubectlResult(["create", "namespace", NAMESPACE]);
  }
  await kubectl(["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
  const kubeconfig = await serviceAccountKubeconfig({
    admin: c.kubeconfig,
    server: c.server,
    caFile: c.caFile,
    namespace: NAMESPACE,
    name: id,
    path: `${dir}/${id}.kubeconfig`,
  });
  await waitForFlowSchemas(kube, [...keyOf.keys()]);

  return {
    kubeconfig,
    async counts() {
      const metrics = await kube.requestText({ method: "GET", path: "/metrics" });
      const counts: RequestCounts = new Map();
      for (const [name, value] of dispatchedByFlowSchema(metrics)) {
        const key = keyOf.get(name);
        if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + value);
      }
      return counts;
    },
    async remove() {
      for (const kind of ["flowschemas", "clusterrolebindings"]) {
        await kubectlResult(["delete", kind, "-l", `${LABEL}=${id}`, "--wait=false"]);
      }
      await kubectlResult(["delete", "serviceaccount", id, "-n", NAMESPACE, "--wait=false"]);
    },
  };
}

/**
 * Waits until the API server's flow control has taken in every FlowSchema of `names`
 * (their `Dangling` condition is written once it has), so that no request of the agent
 * goes to another FlowSchema.
 */
async function waitForFlowSchemas(kube: KubeClient, names: string[]): Promise<void> {
  const wanted = new Set(names);
  const deadline = Date.now() + 60_000;
  while (true) {
    const list = await kube.request<
      { items: { metadata: { name: string }; status?: { conditions?: { type: string }[] } }[] }
    >({ method: "GET", path: "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas" });
    const seen = list.items.filter((item) =>
      wanted.has(item.metadata.name) &&
      (item.status?.conditions ?? []).some((condition) => condition.type === "Dangling")
    ).length;
    if (seen === wanted.size) return;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after 60 s waiting for the API server to take in ${wanted.size} FlowSchemas (${seen} taken in)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
