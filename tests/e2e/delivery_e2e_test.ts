/**
 * Delivery as a user gets it: the bundle (`make bundle`) and the executable file of
 * `make dist` each start from an empty folder, with no deno.json, node_modules or Deno
 * cache (and, for the dist file, no Deno on PATH), register their node and turn it Ready;
 * both name their version, commit and Deno version. The dist file also starts without any
 * network.
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, kubectlResult, repoRoot, waitFor } from "../_harness/cluster.ts";
import { freePort, nodeCondition, uniqueNodeName } from "../_harness/agent.ts";

const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";

let built: Promise<string> | undefined;

/** Builds the bundle and this host's dist file once, into a folder of their own. */
function buildDist(): Promise<string> {
  built ??= (async () => {
    const out = await Deno.makeTempDir({ prefix: "vkedge-dist-e2e-" });
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/build.ts", "dist", `--arch=${arch}`, `--out-dir=${out}`],
      cwd: repoRoot,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (result.code !== 0) {
      throw new Error(`scripts/build.ts dist failed: ${new TextDecoder().decode(result.stderr)}`);
    }
    return out;
  })();
  return built;
}

interface Started {
  child: Deno.ChildProcess;
  log: () => string;
}

/** Starts `command` in the empty folder `cwd` with only `env`, collecting its output. */
function spawn(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Started {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  for (const stream of [child.stdout, child.stderr]) {
    stream.pipeTo(new WritableStream({ write: (chunk) => void (text += decoder.decode(chunk)) }))
      .catch(() => undefined);
  }
  return { child, log: () => text };
}

async function agentArgs(nodeName: string, lockDir: string): Promise<string[]> {
  const c = await cluster();
  const port = freePort();
  return [
    "--provider=mock",
    `--nodename=${nodeName}`,
    `--kubeconfig=${c.kubeconfig}`,
    "--address=127.0.0.1",
    `--kubelet-port=${port}`,
    `--lock-dir=${lockDir}`,
  ];
}

async function expectReadyNode(nodeName: string, started: Started): Promise<void> {
  try {
    await waitFor(`node ${nodeName} Ready`, async () => {
      return (await nodeCondition(nodeName))?.status === "True";
    }, { timeoutMs: 60_000, intervalMs: 500 });
  } catch (error) {
    throw new Error(`${(error as Error).message}\nagent output:\n${started.log().slice(-3000)}`);
  }
  assertMatch(started.log(), /vkedge \d+\.\d+\.\d+ \(commit [0-9a-f]{40}(-dirty)?, deno /);
}

async function stop(started: Started, nodeName: string): Promise<void> {
  try {
    started.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  assertEquals((await started.child.status).code, 0, started.log().slice(-2000));
  await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
}

Deno.test("the bundle starts from an empty folder with a fresh Deno cache and registers its node", async () => {
  const out = await buildDist();
  const empty = await Deno.makeTempDir({ prefix: "vkedge-empty-" });
  await Deno.copyFile(`${out}/vkedge.js`, `${empty}/vkedge.js`);
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: empty,
    DENO_DIR: `${empty}/deno-cache`,
    NO_COLOR: "1",
  };
  const version = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "vkedge.js", "version"],
    cwd: empty,
    env,
    clearEnv: true,
    stdout: "piped",
  }).output();
  assertMatch(
    new TextDecoder().decode(version.stdout),
    /^vkedge \d+\.\d+\.\d+ \(commit [0-9a-f]{40}(-dirty)?, deno \d+\.\d+\.\d+\)\n$/,
  );
  const nodeName = uniqueNodeName("vk-bundle");
  const started = spawn(Deno.execPath(), [
    "run",
    "-A",
    "vkedge.js",
    ...await agentArgs(nodeName, `${empty}/locks`),
  ], { cwd: empty, env });
  try {
    await expectReadyNode(nodeName, started);
  } finally {
    await stop(started, nodeName);
  }
  const left = [...Deno.readDirSync(empty)].map((e) => e.name).sort();
  assertEquals(left.includes("node_modules") || left.includes("deno.json"), false, `${left}`);
  await Deno.remove(empty, { recursive: true });
});

Deno.test(`the make-dist file (linux ${arch}) starts on a host without Deno from an empty folder, unpacks once, and registers its node`, async () => {
  const out = await buildDist();
  const empty = await Deno.makeTempDir({ prefix: "vkedge-empty-" });
  const file = `${empty}/vkedge`;
  await Deno.copyFile(`${out}/vkedge-linux-${arch}`, file);
  await Deno.chmod(file, 0o755);
  // No Deno on PATH: only the system's tools.
  const env = { PATH: "/usr/bin:/bin", HOME: `${empty}/home`, NO_COLOR: "1" };
  const nodeName = uniqueNodeName("vk-dist");
  const started = spawn(file, await agentArgs(nodeName, `${empty}/locks`), { cwd: empty, env });
  try {
    await expectReadyNode(nodeName, started);
  } finally {
    await stop(started, nodeName);
  }
  const cached = [...Deno.readDirSync(`${empty}/home/.cache/vkedge`)].map((e) => e.name);
  assertEquals(cached.length, 1, `one unpacked build in the cache, found ${cached}`);
  const unpacked = `${empty}/home/.cache/vkedge/${cached[0]}`;
  assert((await Deno.stat(`${unpacked}/deno`)).isFile);
  assert((await Deno.stat(`${unpacked}/vkedge.js`)).isFile);

  // Without any network (a namespace of its own) the file still answers from its cache,
  // and a first start elsewhere unpacks without any network too.
  const probe = await new Deno.Command("unshare", { args: ["-n", "true"] }).output()
    .catch(() => undefined);
  if (probe?.code === 0) {
    for (const home of [`${empty}/home`, `${empty}/other-home`]) {
      const offline = await new Deno.Command("unshare", {
        args: ["-n", file, "--version"],
        env: { ...env, HOME: home },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(offline.code, 0, new TextDecoder().decode(offline.stderr));
      assertStringIncludes(new TextDecoder().decode(offline.stdout), "vkedge ");
    }
  } else {
    console.error("unshare -n is not permitted here: the offline start is not checked");
  }
  await Deno.remove(empty, { recursive: true });
});
