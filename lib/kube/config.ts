/**
 * Client configuration: from a kubeconfig file (explicit path, `KUBECONFIG`,
 * `~/.kube/config`) or from the in-cluster ServiceAccount. Anything the client
 * cannot honour fails with a {@linkcode KubeConfigError} naming the field.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { errorMessage } from "../errors.ts";

/** Everything {@linkcode KubeClient} needs to reach and authenticate to an API server. */
export interface ClientConfig {
  /** The API server's base URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** The default namespace of the context (`default` when unset). */
  namespace: string;
  /** PEM of the CA that signs the server certificate; the system roots when absent. */
  caPem?: string;
  /** PEM of the client certificate (chain). */
  certPem?: string;
  /** PEM of the client certificate's private key. */
  keyPem?: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token; re-read so that rotated tokens are picked up. */
  tokenFile?: string;
  /** Skip server certificate verification (only with `allowInsecureSkipTlsVerify`, see {@linkcode loadKubeConfig}). */
  insecureSkipTlsVerify?: boolean;
  /** A proxy URL (`http`, `https` or `socks5`) to reach the server through. */
  proxyUrl?: string;
  /** Where the config came from, for logs, e.g. `kubeconfig /root/.kube/config, context admin`. */
  source: string;
}

/** A kubeconfig (or in-cluster environment) the client cannot use; the message names the field. */
export class KubeConfigError extends Error {
  /** The field path, e.g. `users[admin].user.exec`. */
  readonly field: string;

  /** Creates the error for `field` with the explanation `detail`. */
  constructor(field: string, detail: string, options?: ErrorOptions) {
    super(`${field}: ${detail}`, options);
    this.name = "KubeConfigError";
    this.field = field;
  }
}

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

/** Options of {@linkcode loadInClusterConfig}. */
export interface LoadInClusterConfigOptions {
  /** The ServiceAccount directory (default `/var/run/secrets/kubernetes.io/serviceaccount`). */
  serviceAccountDir?: string;
  /** Environment lookup, for tests (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

/** Options of {@linkcode loadClientConfig}. */
export interface LoadClientConfigOptions
  extends LoadKubeConfigOptions, LoadInClusterConfigOptions {}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

function defaultEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

function describeReadError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "No such file";
  if (error instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "Is a directory";
  return errorMessage(error);
}

async function readFileFor(field: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new KubeConfigError(field, `cannot read ${path}: ${describeReadError(error)}`, {
      cause: error,
    });
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function dirname(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  return index === 0 ? "/" : path.slice(0, index);
}

function resolvePath(base: string, path: string): string {
  return path.startsWith("/") ? path : `${base}/${path}`;
}

function decodeBase64(field: string, data: string): string {
  try {
    const binary = atob(data.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    throw new KubeConfigError(
      field,
      `expected base64 data, found ${data.length} characters that are not base64`,
    );
  }
}

function requirePem(field: string, pem: string, what: string): string {
  if (!pem.includes("-----BEGIN ")) {
    throw new KubeConfigError(field, `expected PEM ${what} ("-----BEGIN ..."), found none`);
  }
  return pem;
}

/** Reads a PEM from `<name>-data` (base64) or `<name>` (a file relative to `baseDir`). */
async function readPem(
  section: Record<string, unknown>,
  name: string,
  fieldPrefix: string,
  baseDir: string,
  what: string,
): Promise<string | undefined> {
  const data = section[`${name}-data`];
  if (typeof data === "string" && data !== "") {
    const field = `${fieldPrefix}.${name}-data`;
    return requirePem(field, decodeBase64(field, data), what);
  }
  const path = section[name];
  if (typeof path === "string" && path !== "") {
    const field = `${fieldPrefix}.${name}`;
    const file = resolvePath(baseDir, path);
    return requirePem(field, await readFileFor(field, file), what);
  }
  return undefined;
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

async function findKubeConfigPath(options: LoadKubeConfigOptions): Promise<string | undefined> {
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

/**
 * Loads a {@linkcode ClientConfig} from a kubeconfig file and a context; file
 * paths inside it are relative to the kubeconfig's directory.
 */
export async function loadKubeConfig(options: LoadKubeConfigOptions = {}): Promise<ClientConfig> {
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
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new KubeConfigError(
      "kubeconfig",
      `expected YAML in ${file}, found a syntax error: ${errorMessage(error).split("\n")[0]}`,
    );
  }
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
  const clusterField = `clusters[${clusterName}].cluster`;

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
    namespace: context.namespace || "default",
    source: `kubeconfig ${file}, context ${contextName}`,
  };
  if (insecure) config.insecureSkipTlsVerify = true;
  if (cluster["proxy-url"]) {
    config.proxyUrl = checkServer(`${clusterField}.proxy-url`, cluster["proxy-url"]);
  }
  const caPem = await readPem(
    cluster,
    "certificate-authority",
    clusterField,
    baseDir,
    "certificates",
  );
  if (caPem !== undefined) config.caPem = caPem;

  if (context.user === undefined || context.user === "") return config;
  const user = pick(doc.users, context.user, `contexts[${contextName}].context.user`).user ?? {};
  const userField = `users[${context.user}].user`;
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
  if (user.token) config.token = user.token;
  if (user.tokenFile) {
    const path = resolvePath(baseDir, user.tokenFile);
    await readFileFor(`${userField}.tokenFile`, path);
    config.tokenFile = path;
  }
  const certPem = await readPem(user, "client-certificate", userField, baseDir, "certificates");
  const keyPem = await readPem(user, "client-key", userField, baseDir, "private key");
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
  return config;
}

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
