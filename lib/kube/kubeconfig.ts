/**
 * Loading a client configuration from a kubeconfig file (explicit path, `KUBECONFIG`,
 * `~/.kube/config`) and one of its contexts. Anything the client cannot honour (exec
 * plugins, basic auth, impersonation, a TLS server name override) fails with a
 * {@linkcode KubeConfigError} naming the field.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { errorMessage } from "../errors.ts";
import {
  defaultEnv,
  dirname,
  fileExists,
  type PemSource,
  readFileFor,
  readPem,
  resolvePath,
} from "./_config_files.ts";
import { type ClientConfig, KubeConfigError } from "./client_config.ts";

const ClusterSchema = z.looseObject({
  server: z.string().min(1),
  "certificate-authority": z.string().optional(),
  "certificate-authority-data": z.string().optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
  "tls-server-name": z.string().optional(),
  "proxy-url": z.string().optional(),
  "disable-compression": z.boolean().optional(),
});

const UserSchema = z.looseObject({
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  "client-certificate": z.string().optional(),
  "client-certificate-data": z.string().optional(),
  "client-key": z.string().optional(),
  "client-key-data": z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  exec: z.unknown().optional(),
  "auth-provider": z.unknown().optional(),
  as: z.string().optional(),
  "as-uid": z.string().optional(),
  "as-groups": z.unknown().optional(),
  "as-user-extra": z.unknown().optional(),
});

const ContextSchema = z.looseObject({
  cluster: z.string().min(1),
  user: z.string().optional(),
  namespace: z.string().optional(),
});

const KubeConfigSchema = z.looseObject({
  "current-context": z.string().nullish(),
  clusters: z.array(z.looseObject({ name: z.string().min(1), cluster: ClusterSchema }))
    .nullish(),
  users: z.array(z.looseObject({ name: z.string().min(1), user: UserSchema.nullish() }))
    .nullish(),
  contexts: z.array(z.looseObject({ name: z.string().min(1), context: ContextSchema }))
    .nullish(),
});

type KubeConfigFile = z.infer<typeof KubeConfigSchema>;
type Cluster = z.infer<typeof ClusterSchema>;
type User = z.infer<typeof UserSchema>;

/** Options of {@linkcode loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** The kubeconfig file; otherwise the first existing file of `KUBECONFIG`, else `~/.kube/config`. */
  path?: string;
  /** The context to use instead of `current-context`. */
  context?: string;
  /**
   * Accept `insecure-skip-tls-verify: true`. Deno's fetch cannot skip verification
   * per client, so set this only when Deno runs with `--unsafely-ignore-certificate-errors`.
   */
  allowInsecureSkipTlsVerify?: boolean;
  /** Environment lookup, for tests (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

function describeIssuePath(raw: unknown, path: readonly PropertyKey[]): string {
  let out = "";
  let node: unknown = raw;
  for (const key of path) {
    if (typeof key === "number") {
      const item = Array.isArray(node) ? node[key] : undefined;
      const name = typeof item === "object" && item !== null
        ? (item as Record<string, unknown>).name
        : undefined;
      out += typeof name === "string" ? `[${name}]` : `[${key}]`;
      node = item;
    } else {
      out += out === "" ? String(key) : `.${String(key)}`;
      node = typeof node === "object" && node !== null
        ? (node as Record<PropertyKey, unknown>)[key]
        : undefined;
    }
  }
  return out === "" ? "(top level)" : out;
}

function validateKubeConfig(raw: unknown, file: string): KubeConfigFile {
  const parsed = KubeConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new KubeConfigError(
    describeIssuePath(raw, issue.path),
    `${issue.message} (in ${file})`,
  );
}

function pick<T extends { name: string }>(
  items: T[] | null | undefined,
  name: string,
  field: string,
): T {
  const found = (items ?? []).find((item) => item.name === name);
  if (found === undefined) {
    const names = (items ?? []).map((item) => item.name);
    throw new KubeConfigError(
      field,
      `expected an entry named ${JSON.stringify(name)}, found ${
        names.length === 0 ? "none" : names.map((n) => JSON.stringify(n)).join(", ")
      }`,
    );
  }
  return found;
}

/** The kubeconfig file `loadKubeConfig` would read, or `undefined` when there is none. */
export async function findKubeConfigPath(
  options: LoadKubeConfigOptions,
): Promise<string | undefined> {
  if (options.path !== undefined) return options.path;
  const env = options.env ?? defaultEnv;
  const list = env("KUBECONFIG");
  if (list !== undefined && list !== "") {
    for (const candidate of list.split(":")) {
      if (candidate !== "" && await fileExists(candidate)) return candidate;
    }
    return undefined;
  }
  const home = env("HOME");
  if (home === undefined || home === "") return undefined;
  const path = `${home}/.kube/config`;
  return await fileExists(path) ? path : undefined;
}

function checkServer(field: string, server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(field, `expected an http(s) URL, found ${JSON.stringify(server)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeConfigError(field, `expected an http(s) URL, found ${JSON.stringify(server)}`);
  }
  return server.replace(/\/+$/, "");
}

async function readKubeConfigFile(options: LoadKubeConfigOptions): Promise<[string, unknown]> {
  const file = await findKubeConfigPath(options);
  if (file === undefined) {
    const env = options.env ?? defaultEnv;
    const list = env("KUBECONFIG");
    throw new KubeConfigError(
      "kubeconfig",
      list
        ? `expected an existing file in KUBECONFIG, found none of ${list}`
        : "expected a kubeconfig file (path option, KUBECONFIG or ~/.kube/config), found none",
    );
  }
  const text = await readFileFor("kubeconfig", file);
  try {
    return [file, parseYaml(text)];
  } catch (error) {
    throw new KubeConfigError(
      "kubeconfig",
      `expected YAML in ${file}, found a syntax error: ${errorMessage(error).split("\n")[0]}`,
    );
  }
}

async function clusterConfig(
  cluster: Cluster,
  source: PemSource,
  options: LoadKubeConfigOptions & { namespace: string; description: string },
): Promise<ClientConfig> {
  const clusterField = source.field;
  if (cluster["tls-server-name"]) {
    throw new KubeConfigError(
      `${clusterField}.tls-server-name`,
      "Deno's fetch cannot override the TLS server name; set server to a URL whose host is in the certificate",
    );
  }
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  if (insecure && !options.allowInsecureSkipTlsVerify) {
    throw new KubeConfigError(
      `${clusterField}.insecure-skip-tls-verify`,
      "Deno's fetch cannot skip TLS verification per client; set certificate-authority(-data), " +
        "or run deno with --unsafely-ignore-certificate-errors and allowInsecureSkipTlsVerify",
    );
  }
  const config: ClientConfig = {
    server: checkServer(`${clusterField}.server`, cluster.server),
    namespace: options.namespace,
    source: options.description,
  };
  if (insecure) config.insecureSkipTlsVerify = true;
  if (cluster["proxy-url"]) {
    config.proxyUrl = checkServer(`${clusterField}.proxy-url`, cluster["proxy-url"]);
  }
  const caPem = await readPem(source, "certificate-authority", "certificates");
  if (caPem !== undefined) config.caPem = caPem;
  return config;
}

function rejectUnsupported(user: User, userField: string): void {
  if (user.exec !== undefined && user.exec !== null) {
    throw new KubeConfigError(
      `${userField}.exec`,
      "exec credential plugins are not supported; use token, tokenFile or client-certificate",
    );
  }
  if (user["auth-provider"] !== undefined && user["auth-provider"] !== null) {
    throw new KubeConfigError(
      `${userField}.auth-provider`,
      "auth-provider plugins are not supported; use token, tokenFile or client-certificate",
    );
  }
  if (user.username || user.password) {
    throw new KubeConfigError(
      `${userField}.${user.username ? "username" : "password"}`,
      "basic authentication is not supported; use token, tokenFile or client-certificate",
    );
  }
  for (const key of ["as", "as-uid", "as-groups", "as-user-extra"] as const) {
    if (user[key] !== undefined && user[key] !== null) {
      throw new KubeConfigError(`${userField}.${key}`, "impersonation is not supported");
    }
  }
}

async function addCredentials(config: ClientConfig, user: User, source: PemSource): Promise<void> {
  const userField = source.field;
  rejectUnsupported(user, userField);
  if (user.token) config.token = user.token;
  if (user.tokenFile) {
    const path = resolvePath(source.baseDir, user.tokenFile);
    await readFileFor(`${userField}.tokenFile`, path);
    config.tokenFile = path;
  }
  const certPem = await readPem(source, "client-certificate", "certificates");
  const keyPem = await readPem(source, "client-key", "private key");
  if ((certPem === undefined) !== (keyPem === undefined)) {
    const missing = certPem === undefined ? "client-certificate" : "client-key";
    const present = certPem === undefined ? "client-key" : "client-certificate";
    throw new KubeConfigError(
      `${userField}.${missing}`,
      `expected ${missing} or ${missing}-data together with ${present}, found none`,
    );
  }
  if (certPem !== undefined && keyPem !== undefined) {
    config.certPem = certPem;
    config.keyPem = keyPem;
  }
}

/**
 * Loads a {@linkcode ClientConfig} from a kubeconfig file and a context; file
 * paths inside it are relative to the kubeconfig's directory.
 */
export async function loadKubeConfig(options: LoadKubeConfigOptions = {}): Promise<ClientConfig> {
  const [file, raw] = await readKubeConfigFile(options);
  const doc = validateKubeConfig(raw, file);
  const baseDir = dirname(file);

  const contextName = options.context ?? doc["current-context"] ?? "";
  if (contextName === "") {
    throw new KubeConfigError(
      "current-context",
      `expected the name of a context in ${file}, found none; pass a context name`,
    );
  }
  const context = pick(doc.contexts, contextName, "contexts").context;
  const clusterName = context.cluster;
  const cluster = pick(doc.clusters, clusterName, `contexts[${contextName}].context.cluster`)
    .cluster;
  const config = await clusterConfig(
    cluster,
    { section: cluster, field: `clusters[${clusterName}].cluster`, baseDir },
    {
      ...options,
      namespace: context.namespace || "default",
      description: `kubeconfig ${file}, context ${contextName}`,
    },
  );

  if (context.user === undefined || context.user === "") return config;
  const user = pick(doc.users, context.user, `contexts[${contextName}].context.user`).user ?? {};
  await addCredentials(config, user, {
    section: user,
    field: `users[${context.user}].user`,
    baseDir,
  });
  return config;
}
