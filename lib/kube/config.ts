/**
 * Client configuration, the way client-go finds it: a kubeconfig file (explicit path,
 * `KUBECONFIG`, `~/.kube/config`, see `kubeconfig.ts`), else the in-cluster ServiceAccount
 * (`in_cluster_config.ts`). Anything the client cannot honour fails with a
 * {@linkcode KubeConfigError} naming the field.
 *
 * @module
 */

import { defaultEnv } from "./_config_files.ts";
import type { ClientConfig } from "./client_config.ts";
import { loadInClusterConfig, type LoadInClusterConfigOptions } from "./in_cluster_config.ts";
import { findKubeConfigPath, loadKubeConfig, type LoadKubeConfigOptions } from "./kubeconfig.ts";

/** Options of {@linkcode loadClientConfig}. */
export interface LoadClientConfigOptions
  extends LoadKubeConfigOptions, LoadInClusterConfigOptions {}

/**
 * Loads a {@linkcode ClientConfig} the way client-go does by default: an explicit
 * kubeconfig, else `KUBECONFIG` or `~/.kube/config`, else the in-cluster config.
 */
export async function loadClientConfig(
  options: LoadClientConfigOptions = {},
): Promise<ClientConfig> {
  const env = options.env ?? defaultEnv;
  if (
    options.path === undefined && (await findKubeConfigPath(options)) === undefined &&
    (env("KUBECONFIG") ?? "") === "" && (env("KUBERNETES_SERVICE_HOST") ?? "") !== ""
  ) {
    return await loadInClusterConfig(options);
  }
  return await loadKubeConfig(options);
}
