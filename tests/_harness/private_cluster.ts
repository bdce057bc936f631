/**
 * A control plane of one test's own, in a folder of its own: for tests that
 * stop its API server (`controlplane apiserver-stop`/`apiserver-start`), which
 * the shared control plane must never lose while other tests run against it.
 * Starting one takes 10 to 20 s; the binaries are those `tests/run.ts` built.
 *
 * @module
 */

import { type Cluster, type CommandResult, kubectlResult, repoRoot } from "./cluster.ts";

/** A running private control plane and kubectl bound to it. */
export interface PrivateCluster extends Cluster {
  /** Runs kubectl against this control plane, without throwing. */
  kubectlResult(args: string[], options?: { stdin?: string }): Promise<CommandResult>;
  /** Runs kubectl against this control plane; throws with stderr on failure. */
  kubectl(args: string[], options?: { stdin?: string }): Promise<string>;
  /** Runs kubectl with `-o json` against this control plane and parses the output. */
  kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T>;
  /** Stops kube-apiserver alone: etcd, the controller-manager and the scheduler keep running. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port, with the same flags and certificates. */
  startApiServer(): Promise<void>;
  /** Stops every component and removes the folder. */
  down(): Promise<void>;
}

async function launcher(): Promise<string> {
  // Cached: returns at once with the folder tests/run.ts built before the tests.
  const out = await new Deno.Command("bash", {
    args: [`${repoRoot}/tests/control_plane/build.sh`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (out.code !== 0) {
    throw new Error(`tests/control_plane/build.sh failed: ${text.decode(out.stderr).trim()}`);
  }
  return text.decode(out.stdout).trim();
}

async function runLauncher(controlplane: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(controlplane, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`controlplane ${args.join(" ")} exited ${out.code}: ${stderr}`);
  }
}

/** Starts a control plane in a new temporary folder whose name starts with `prefix`. */
export async function startPrivateCluster(
  prefix = "vkedge-private-cluster",
): Promise<PrivateCluster> {
  const bin = await launcher();
  const controlplane = `${bin}/controlplane`;
  const dir = await Deno.makeTempDir({ prefix: `${prefix}-` });
  try {
    await runLauncher(controlplane, ["up", "--dir", dir, "--bin", bin]);
  } catch (error) {
    await runLauncher(controlplane, ["down", "--dir", dir]).catch(() => undefined);
    throw new Error(`${error instanceof Error ? error.message : error}; logs in ${dir}/logs`);
  }
  const state = JSON.parse(await Deno.readTextFile(`${dir}/cluster.json`)) as Omit<
    Cluster,
    "dir" | "controlplane"
  >;
  const base: Cluster = {
    server: state.server,
    kubeconfig: state.kubeconfig,
    tokenKubeconfig: state.tokenKubeconfig,
    caFile: state.caFile,
    etcd: state.etcd,
    logs: state.logs,
    dir,
    controlplane,
  };
  const kubectlHere = async (args: string[], options: { stdin?: string } = {}) => {
    const result = await kubectlResult(args, { ...options, kubeconfig: base.kubeconfig });
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result.stdout;
  };
  return {
    ...base,
    kubectlResult: (args, options = {}) =>
      kubectlResult(args, { ...options, kubeconfig: base.kubeconfig }),
    kubectl: kubectlHere,
    kubectlJson: async <T>(args: string[]) =>
      JSON.parse(await kubectlHere([...args, "-o", "json"])) as T,
    stopApiServer: () => runLauncher(controlplane, ["apiserver-stop", "--dir", dir]),
    startApiServer: () => runLauncher(controlplane, ["apiserver-start", "--dir", dir]),
    async down() {
      await runLauncher(controlplane, ["down", "--dir", dir]);
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
}

/** Runs `body` against a private control plane and stops it afterwards, also on failure. */
export async function withPrivateCluster<T>(
  prefix: string,
  body: (cluster: PrivateCluster) => Promise<T>,
): Promise<T> {
  const cluster = await startPrivateCluster(prefix);
  try {
    return await body(cluster);
  } finally {
    await cluster.down();
  }
}
