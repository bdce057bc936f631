/**
 * The `kubernetes` provider module: a whole other ("lower") cluster, such as an edge
 * site's k3s reachable only through its API, as one virtual node of the upper cluster.
 *
 * - Pods: each upper pod is one lower pod of the same name in the mapped namespace
 *   (`namespaces.prefix + namespace + namespaces.suffix`, default prefix
 *   `<clusterName>-`), placed by the lower scheduler (`nodeSelector`, `tolerations` of the
 *   configuration), labelled `vkedge.io/owner` (a hash of upper cluster and node),
 *   `vkedge.io/cluster`, `vkedge.io/node`, `vkedge.io/pod-namespace`, `vkedge.io/pod-uid`,
 *   and annotated with the upper pod's name and recorded spec; see `mapping.ts` for what
 *   is dropped or translated.
 * - What pods reference: the ConfigMaps and Secrets are copied into the lower namespace
 *   and kept in sync while a lower pod uses them (`object_mirror.ts`); no ServiceAccount
 *   token goes below, and Services and EndpointSlices are not mirrored.
 * - Status: one watch of the lower pods with the owner label; capacity, allocatable and
 *   pressure from one watch of the lower nodes and one of the other pods there.
 * - Logs and exec through the lower API (`pods/log`, `pods/exec`).
 *
 * The configuration is described in `config.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  type ClientConfig,
  errorMessage,
  KubeClient,
  KubeConfigError,
  loadInClusterConfig,
  loadKubeConfig,
} from "../../lib/provider_kit/mod.ts";
import { type KubernetesConfig, parseKubernetesConfig } from "./config.ts";
import { KubernetesProvider } from "./kubernetes_provider.ts";

export { type KubernetesConfig, kubernetesConfigSchema, parseKubernetesConfig } from "./config.ts";
export { KubernetesProvider, type KubernetesProviderOptions } from "./kubernetes_provider.ts";

/** Loads the lower cluster's client configuration; `InvalidInputError` naming what is wrong. */
export async function loadLowerClientConfig(config: KubernetesConfig): Promise<ClientConfig> {
  try {
    return config.inCluster
      ? await loadInClusterConfig()
      : await loadKubeConfig({ path: config.kubeconfig, context: config.context });
  } catch (error) {
    const what = config.inCluster ? "inCluster" : `kubeconfig ${config.kubeconfig}`;
    throw new InvalidInputError(
      `kubernetes provider config: ${what}: ${errorMessage(error)}`,
      { cause: error instanceof KubeConfigError ? error : undefined },
    );
  }
}

/** A client of the lower cluster with the configured rate limit and timeout. */
export function lowerClient(config: KubernetesConfig, clientConfig: ClientConfig): KubeClient {
  return new KubeClient(clientConfig, {
    qps: config.qps,
    burst: config.burst,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    maxRetries: 2,
  });
}

/** The kubernetes provider module, as registered in `providers/mod.ts`. */
const kubernetesProviderModule: ProviderModule = {
  name: "kubernetes",
  description: "another Kubernetes cluster as one node (pods, ConfigMaps and Secrets below; " +
    "status by watch; logs and exec through its API)",
  async create(options) {
    const config = parseKubernetesConfig(options.config);
    if (options.cluster === undefined) {
      throw new InvalidInputError(
        "kubernetes provider: expected the agent's view of the upper cluster, found none",
      );
    }
    const client = lowerClient(config, await loadLowerClientConfig(config));
    return await KubernetesProvider.create(config, {
      ...options,
      client,
      cluster: options.cluster,
    });
  },
};

export default kubernetesProviderModule;
