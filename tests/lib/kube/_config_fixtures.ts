// Kubeconfig documents, PEM blocks, temporary directories and environments for the
// client configuration tests (kubeconfig, in-cluster, loadClientConfig).

import { stringify } from "yaml";

/** A CA certificate in PEM. */
export const CA = "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n";
/** A client certificate in PEM. */
export const CERT = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n";
/** A private key in PEM. */
export const KEY = "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n";

/** Base64 of `text`. */
export function b64(text: string): string {
  return btoa(text);
}

/** What {@linkcode kubeconfig} changes in its one cluster, user and context. */
export interface Doc {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  context?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** A kubeconfig with one cluster, user and context (`admin@c1`), as YAML. */
export function kubeconfig(doc: Doc = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "admin@c1",
    clusters: [{
      name: "c1",
      cluster: {
        server: "https://127.0.0.1:6443",
        "certificate-authority-data": b64(CA),
        ...doc.cluster,
      },
    }],
    users: [{ name: "admin", user: { token: "secret-token", ...doc.user } }],
    contexts: [{ name: "admin@c1", context: { cluster: "c1", user: "admin", ...doc.context } }],
    ...doc.extra,
  });
}

/** Runs `fn` with a temporary directory, removed afterwards. */
export async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kubeconfig-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An environment with only `vars`. */
export function noEnv(vars: Record<string, string> = {}): (name: string) => string | undefined {
  return (name) => vars[name];
}
