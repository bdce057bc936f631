// Shared set-up of the lib/kube tests that run against the real control plane.

import { cluster, freshNamespace, kubectlResult } from "../../_harness/cluster.ts";
import { KubeClient, type KubeClientOptions, loadKubeConfig } from "../../../lib/kube/mod.ts";

/** A client from the admin kubeconfig (client-certificate auth), generous limits for tests. */
export async function adminClient(options: KubeClientOptions = {}): Promise<KubeClient> {
  const c = await cluster();
  const config = await loadKubeConfig({ path: c.kubeconfig });
  return new KubeClient(config, { qps: 100, burst: 200, ...options });
}

/**
 * Runs `fn` with an admin client and a fresh namespace, then closes the client
 * and deletes the namespace without waiting.
 */
export async function withNamespace(
  prefix: string,
  fn: (client: KubeClient, namespace: string) => Promise<void>,
): Promise<void> {
  const namespace = await freshNamespace(prefix);
  const client = await adminClient();
  try {
    await fn(client, namespace);
  } finally {
    client.close();
    await kubectlResult(["delete", "namespace", namespace, "--wait=false"]);
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
