/**
 * Loading the client configuration of a pod: the API server from `KUBERNETES_SERVICE_HOST`
 * and `KUBERNETES_SERVICE_PORT`, the token, CA and namespace from the ServiceAccount files.
 *
 * @module
 */

import { defaultEnv, readFileFor, requirePem } from "./_config_files.ts";
import { type ClientConfig, KubeConfigError } from "./client_config.ts";

/** Options of {@linkcode loadInClusterConfig}. */
export interface LoadInClusterConfigOptions {
  /** The ServiceAccount directory (default `/var/run/secrets/kubernetes.io/serviceaccount`). */
  serviceAccountDir?: string;
  /** Environment lookup, for tests (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Loads the in-cluster {@linkcode ClientConfig} from `KUBERNETES_SERVICE_HOST/PORT` and the ServiceAccount files. */
export async function loadInClusterConfig(
  options: LoadInClusterConfigOptions = {},
): Promise<ClientConfig> {
  const env = options.env ?? defaultEnv;
  const host = env("KUBERNETES_SERVICE_HOST") ?? "";
  const port = env("KUBERNETES_SERVICE_PORT") ?? "";
  if (host === "" || port === "") {
    throw new KubeConfigError(
      "KUBERNETES_SERVICE_HOST",
      "expected KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT to be set in a pod, found " +
        `${host === "" ? "no host" : "a host"} and ${port === "" ? "no port" : "a port"}`,
    );
  }
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = `${dir}/token`;
  await readFileFor("serviceaccount token", tokenFile);
  const caPem = requirePem(
    "serviceaccount ca.crt",
    await readFileFor("serviceaccount ca.crt", `${dir}/ca.crt`),
    "certificates",
  );
  let namespace = "default";
  try {
    namespace = (await Deno.readTextFile(`${dir}/namespace`)).trim() || "default";
  } catch {
    // The namespace file is optional; client-go also falls back to "default".
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    namespace,
    caPem,
    tokenFile,
    source: "in-cluster",
  };
}
