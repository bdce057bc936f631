// The kubernetes provider over the shared lower cluster (a second control plane with kwok),
// each test with a node, cluster name and lower namespace prefix of its own, and an
// upper cluster held in memory (the agent's caches stand-in: pods, ConfigMaps, Secrets).

import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import type { ClusterObjectChange, ClusterReader } from "../../../lib/provider.ts";
import {
  KubernetesProvider,
  loadLowerClientConfig,
  lowerClient,
  parseKubernetesConfig,
} from "../../../providers/kubernetes/mod.ts";
import {
  KWOK_TOLERATION,
  type LowerCluster,
  lowerCluster,
  lowerKubectlResult,
} from "../../_harness/lower_cluster.ts";

/** An upper cluster in memory, read through the `ClusterReader` the agent would pass. */
export class MemoryCluster implements ClusterReader {
  readonly pods = new Map<string, Pod>();
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly #callbacks = new Set<(change: ClusterObjectChange) => void>();

  getPod(namespace: string, name: string): Pod | undefined {
    return this.pods.get(`${namespace}/${name}`);
  }
  getConfigMap(namespace: string, name: string): ConfigMap | undefined {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  getSecret(namespace: string, name: string): Secret | undefined {
    return this.secrets.get(`${namespace}/${name}`);
  }
  waitForSync(): Promise<boolean> {
    return Promise.resolve(true);
  }
  onChange(signal: AbortSignal, callback: (change: ClusterObjectChange) => void): void {
    this.#callbacks.add(callback);
    signal.addEventListener("abort", () => this.#callbacks.delete(callback), { once: true });
  }

  /** Puts a ConfigMap or Secret (namespace and name from its metadata) and tells the readers. */
  put(object: ConfigMap | Secret): void {
    const namespace = object.metadata!.namespace!;
    const name = object.metadata!.name!;
    const kind = object.kind === "Secret" ? "Secret" : "ConfigMap";
    if (kind === "Secret") this.secrets.set(`${namespace}/${name}`, object as Secret);
    else this.configMaps.set(`${namespace}/${name}`, object as ConfigMap);
    for (const callback of this.#callbacks) callback({ kind, namespace, name });
  }
}

/** One test's providers over the shared lower cluster. */
export interface Backend {
  lower: LowerCluster;
  cluster: MemoryCluster;
  clusterName: string;
  nodeName: string;
  /** The lower namespace of upper namespace `namespace`. */
  lowerNamespace(namespace: string): string;
  /** A provider over the lower cluster (a new one stands for an agent restart). */
  provider(): Promise<KubernetesProvider>;
  /** Stops every provider and deletes the test's lower namespaces. */
  close(): Promise<void>;
}

/** Providers for one test, with `extra` provider configuration. */
export async function backend(extra: Record<string, unknown> = {}): Promise<Backend> {
  const lower = await lowerCluster();
  const id = crypto.randomUUID().slice(0, 8);
  const clusterName = `test-${id}`;
  const nodeName = `edge-${id}`;
  const prefix = `t${id}-`;
  const cluster = new MemoryCluster();
  const stops: AbortController[] = [];
  const providers: KubernetesProvider[] = [];
  const config = parseKubernetesConfig({
    clusterName,
    kubeconfig: lower.kubeconfig,
    namespaces: { prefix },
    tolerations: [KWOK_TOLERATION],
    ...extra,
  });
  return {
    lower,
    cluster,
    clusterName,
    nodeName,
    lowerNamespace: (namespace) => `${prefix}${namespace}`,
    async provider() {
      const stop = new AbortController();
      stops.push(stop);
      const provider = await KubernetesProvider.create(config, {
        client: lowerClient(config, await loadLowerClientConfig(config)),
        cluster,
        nodeName,
        operatingSystem: "linux",
        internalIp: "192.0.2.20",
        daemonPort: 10250,
        signal: stop.signal,
      });
      providers.push(provider);
      return provider;
    },
    async close() {
      for (const stop of stops) stop.abort();
      await Promise.all(providers.map((provider) => provider.stopped()));
      const namespaces = await lowerKubectlResult(lower, [
        "get",
        "namespaces",
        "-o",
        "name",
        "-l",
        `vkedge.io/cluster=${clusterName}`,
      ]);
      const names = namespaces.stdout.split("\n").filter((line) => line !== "");
      if (names.length > 0) {
        await lowerKubectlResult(lower, ["delete", "--wait=false", ...names]);
      }
    },
  };
}

/** An upper pod `namespace/name` with one busybox container `app`. */
export function upperPod(
  name: string,
  options: { uid?: string; namespace?: string; nodeName?: string } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: options.namespace ?? "default",
      name,
      uid: options.uid ?? crypto.randomUUID(),
    },
    spec: {
      nodeName: options.nodeName,
      containers: [{ name: "app", image: "busybox:1.36" }],
    },
  };
}
