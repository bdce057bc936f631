/**
 * Access to the real control plane the tests run against. `tests/run.ts`
 * starts one per test run and passes its folder in `VKEDGE_TEST_CLUSTER_DIR`;
 * a test file run on its own uses the one `make cluster-up` started.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** What `controlplane up` wrote about the running control plane. */
export interface Cluster {
  /** The state folder (certificates, kubeconfigs, logs). */
  dir: string;
  /** The API server URL. */
  server: string;
  /** Admin kubeconfig authenticating with a client certificate. */
  kubeconfig: string;
  /** Admin kubeconfig authenticating with a bearer token. */
  tokenKubeconfig: string;
  /** The cluster CA certificate file. */
  caFile: string;
  /** The etcd client URL. */
  etcd: string;
  /** Component log folder. */
  logs: string;
  /** The `controlplane` launcher binary (`compact`, `down`). */
  controlplane: string;
}

/** The repository's root folder. */
export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);

let cached: Promise<Cluster> | undefined;

/** Returns the running test control plane, or throws saying how to start one. */
export function cluster(): Promise<Cluster> {
  cached ??= readCluster();
  return cached;
}

async function readCluster(): Promise<Cluster> {
  const dir = Deno.env.get("VKEDGE_TEST_CLUSTER_DIR") ?? `${repoRoot}/.local/cluster`;
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/cluster.json`);
  } catch {
    throw new Error(
      `no test control plane in ${dir}: run the tests with "make test" (or "deno task test"), ` +
        `or start one with "make cluster-up"`,
    );
  }
  const state = JSON.parse(text) as Omit<Cluster, "dir" | "controlplane">;
  return { ...state, dir, controlplane: `${repoRoot}/.local/control-plane-bin/controlplane` };
}

/** Result of a finished command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test cluster and returns its output, without throwing. */
export async function kubectlResult(
  args: string[],
  options: { stdin?: string; kubeconfig?: string } = {},
): Promise<CommandResult> {
  const kubeconfig = options.kubeconfig ?? (await cluster()).kubeconfig;
  const child = new Deno.Command("kubectl", {
    args,
    env: { KUBECONFIG: kubeconfig },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs kubectl against the test cluster and returns stdout; throws with stderr on failure. */
export async function kubectl(
  args: string[],
  options: { stdin?: string; kubeconfig?: string } = {},
): Promise<string> {
  const result = await kubectlResult(args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Runs kubectl and parses its JSON output (`-o json` is added). */
export async function kubectlJson<T = Record<string, unknown>>(
  args: string[],
  options: { kubeconfig?: string } = {},
): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"], options)) as T;
}

let namespaceCounter = 0;

/**
 * Creates a namespace with a unique name for one test and waits until the
 * controller-manager has given it its default ServiceAccount, so that pods can
 * be created with the ServiceAccount admission plugin on.
 */
export async function freshNamespace(prefix: string): Promise<string> {
  const suffix = `${Date.now().toString(36)}-${Deno.pid.toString(36)}${namespaceCounter++}`;
  const name = `${prefix}-${suffix}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63)
    .replace(/-+$/, "");
  await kubectl(["create", "namespace", name]);
  await waitFor(`default ServiceAccount in ${name}`, async () => {
    const r = await kubectlResult(["get", "serviceaccount", "default", "-n", name]);
    return r.code === 0;
  });
  return name;
}

/** Polls `check` every `intervalMs` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
  const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/**
 * Compacts etcd at its current revision, as the API server does every five
 * minutes, so that older resourceVersions are gone (watches from them get 410).
 */
export async function compactEtcd(): Promise<void> {
  const c = await cluster();
  const out = await new Deno.Command(c.controlplane, {
    args: ["compact", "--dir", c.dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`controlplane compact failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
