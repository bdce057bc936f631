/**
 * A real Docker Swarm for the swarm provider's tests: Debian's dockerd (installed by
 * `install_swarm_deps.sh` when missing) started in a network namespace of its own, with
 * its own data-root, exec-root, socket, pidfile and cgroup parent, `swarm init` on the
 * namespace's loopback, and a busybox image imported from a root file system built here
 * and tagged `127.0.0.1:5000/busybox:1`, so the pull Swarm tries before each task stays on
 * loopback (nothing listens there; the local image is used).
 *
 * The namespace keeps dockerd's bridges and iptables chains off the host, and lets
 * several test files run a Swarm each at once. `close()` removes everything: the daemon
 * and the processes it started, mounts under its folders, the namespace (and so every
 * link and chain in it), the cgroups and the folders.
 *
 * @module
 */

import { repoRoot } from "./cluster.ts";

/** The image every swarm test runs. */
export const BUSYBOX_IMAGE = "127.0.0.1:5000/busybox:1";

/** A running Swarm of one manager. */
export interface SwarmDaemon {
  /** Its folder (data-root, exec-root, socket, log). */
  dir: string;
  /** The Engine API socket. */
  socket: string;
  /** `unix://<socket>`, the provider's endpoint. */
  endpoint: string;
  /** The network namespace dockerd runs in. */
  netns: string;
  /** An Engine API request over the socket. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** The JSON answer of a GET; throws on an error status. */
  json<T>(path: string): Promise<T>;
  /** dockerd's log so far. */
  log(): Promise<string>;
  /** Stops dockerd (SIGTERM, its containers stop with it) and waits for it to exit. */
  stopDaemon(): Promise<void>;
  /** Starts dockerd again over the same folders; resolves once the Swarm answers. */
  startDaemon(): Promise<void>;
  /** Stops everything and removes every trace. */
  close(): Promise<void>;
}

/** Options of {@linkcode startSwarm}. */
export interface StartSwarmOptions {
  /** Part of the namespace name, for reading `ip netns` while tests run. */
  name: string;
  /** dockerd `--debug`: its log then has a line per API call. */
  debug?: boolean;
}

async function run(cmd: string, args: string[], options: { allowFail?: boolean } = {}) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  const result = {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  if (out.code !== 0 && !options.allowFail) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${out.code}: ${result.stderr.trim()}`);
  }
  return result;
}

let installed: Promise<void> | undefined;

/** Installs docker.io, busybox-static and iptables when missing (once per process). */
export function ensureSwarmDeps(): Promise<void> {
  installed ??= run("bash", [`${repoRoot}/tests/_harness/install_swarm_deps.sh`]).then(() => {});
  return installed;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function processAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** PIDs of processes whose command line names `dir` (dockerd, containerd, shims). */
async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(dir)) pids.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Mount points under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  return text.split("\n").map((line) => line.split(" ")[4]).filter((point) =>
    point !== undefined && (point === dir || point.startsWith(`${dir}/`))
  ).sort((a, b) => b.length - a.length);
}

async function removeCgroups(parent: string): Promise<void> {
  let controllers: string[] = [];
  try {
    for await (const entry of Deno.readDir("/sys/fs/cgroup")) controllers.push(entry.name);
  } catch {
    controllers = [];
  }
  for (const controller of controllers) {
    const root = `/sys/fs/cgroup/${controller}/${parent}`;
    const dirs: string[] = [];
    const walk = async (path: string) => {
      try {
        for await (const entry of Deno.readDir(path)) {
          if (entry.isDirectory) await walk(`${path}/${entry.name}`);
        }
        dirs.push(path);
      } catch {
        // Not there.
      }
    };
    await walk(root);
    for (const path of dirs) await Deno.remove(path).catch(() => undefined);
  }
}

/** Writes a busybox root file system as a tarball and returns its path. */
async function busyboxTarball(dir: string): Promise<string> {
  const root = `${dir}/rootfs`;
  for (const sub of ["bin", "etc", "tmp", "root", "proc", "sys", "dev"]) {
    await Deno.mkdir(`${root}/${sub}`, { recursive: true });
  }
  await Deno.copyFile("/bin/busybox", `${root}/bin/busybox`);
  await Deno.chmod(`${root}/bin/busybox`, 0o755);
  const applets = (await run("/bin/busybox", ["--list"])).stdout.split("\n").filter((a) =>
    a !== "" && a !== "busybox"
  );
  for (const applet of applets) await Deno.symlink("busybox", `${root}/bin/${applet}`);
  await Deno.writeTextFile(`${root}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
  await Deno.writeTextFile(`${root}/etc/group`, "root:x:0:\n");
  const tarball = `${dir}/busybox.tar`;
  await run("tar", ["-C", root, "-cf", tarball, "."]);
  await Deno.remove(root, { recursive: true });
  return tarball;
}

/** Starts a Swarm of one manager in a namespace of its own (see the module documentation). */
export async function startSwarm(options: StartSwarmOptions): Promise<SwarmDaemon> {
  await ensureSwarmDeps();
  const id = `${options.name.replace(/[^a-z0-9]/gi, "").slice(0, 8)}${
    crypto.randomUUID().slice(0, 6)
  }`;
  const netns = `vkedge-sw-${id}`;
  const dir = await Deno.makeTempDir({ prefix: "vkedge-swarm-" });
  const socket = `${dir}/docker.sock`;
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  let daemon: Deno.ChildProcess | undefined;

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    return await fetch(`http://docker${path}`, { ...init, client });
  }
  async function json<T>(path: string): Promise<T> {
    const response = await api(path);
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  async function startDaemon(): Promise<void> {
    daemon = new Deno.Command("nsenter", {
      args: [
        `--net=/run/netns/${netns}`,
        "dockerd",
        `--data-root=${dir}/data`,
        `--exec-root=${dir}/exec`,
        `--host=unix://${socket}`,
        `--pidfile=${dir}/docker.pid`,
        `--cgroup-parent=${netns}`,
        ...(options.debug ? ["--debug"] : []),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const log = await Deno.open(`${dir}/dockerd.log`, { write: true, create: true, append: true });
    const copies = [daemon.stdout, daemon.stderr].map((stream) =>
      stream.pipeTo(new WritableStream({ write: (chunk) => void log.writeSync(chunk) }))
        .catch(() => undefined)
    );
    void Promise.all(copies).finally(() => log.close());
    await waitUntil("dockerd to answer /_ping", async () => {
      const response = await api("/_ping");
      await response.body?.cancel();
      return response.ok;
    }, 60_000);
  }

  async function stopDaemon(): Promise<void> {
    if (daemon === undefined) return;
    const child = daemon;
    daemon = undefined;
    let pid: number | undefined;
    try {
      pid = Number((await Deno.readTextFile(`${dir}/docker.pid`)).trim());
    } catch {
      pid = undefined;
    }
    if (pid !== undefined && processAlive(pid)) Deno.kill(pid, "SIGTERM");
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 40_000)),
    ]);
    if (!exited && pid !== undefined && processAlive(pid)) Deno.kill(pid, "SIGKILL");
    await child.status;
  }

  try {
    await run("ip", ["netns", "add", netns]);
    await run("ip", ["-n", netns, "link", "set", "lo", "up"]);
    await startDaemon();
    const init = await api("/swarm/init", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" }),
    });
    if (!init.ok) throw new Error(`swarm init answered ${init.status}: ${await init.text()}`);
    await init.body?.cancel();
    const tarball = await busyboxTarball(dir);
    const [repo, tag] = [BUSYBOX_IMAGE.slice(0, BUSYBOX_IMAGE.lastIndexOf(":")), "1"];
    const query = new URLSearchParams({ fromSrc: "-", repo, tag, changes: 'CMD ["/bin/sh"]' });
    const imported = await api(`/images/create?${query}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-tar" },
      body: await Deno.readFile(tarball),
    });
    const importText = await imported.text();
    if (!imported.ok || importText.includes('"error"')) {
      throw new Error(`importing ${BUSYBOX_IMAGE} failed: ${importText}`);
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  async function cleanUp(): Promise<void> {
    await stopDaemon().catch(() => undefined);
    for (const pid of await processesUnder(dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
    await waitUntil(
      "the daemon's processes to exit",
      async () => (await processesUnder(dir)).length === 0,
      10_000,
    ).catch(() => undefined);
    for (const point of await mountsUnder(dir)) {
      await run("umount", ["-l", point], { allowFail: true });
    }
    await run("ip", ["netns", "del", netns], { allowFail: true });
    await removeCgroups(netns);
    client.close();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }

  return {
    dir,
    socket,
    endpoint: `unix://${socket}`,
    netns,
    api,
    json,
    log: () => Deno.readTextFile(`${dir}/dockerd.log`),
    stopDaemon,
    async startDaemon() {
      await startDaemon();
      await waitUntil("the Swarm manager to be active again", async () => {
        const info = await json<{ Swarm: { LocalNodeState: string; ControlAvailable: boolean } }>(
          "/info",
        );
        return info.Swarm.LocalNodeState === "active" && info.Swarm.ControlAvailable;
      }, 60_000);
    },
    close: cleanUp,
  };
}

/** Runs `body` with a fresh Swarm and removes it afterwards, also when `body` throws. */
export async function withSwarm<T>(
  name: string,
  body: (swarm: SwarmDaemon) => Promise<T>,
  options: Omit<StartSwarmOptions, "name"> = {},
): Promise<T> {
  const swarm = await startSwarm({ name, ...options });
  try {
    return await body(swarm);
  } finally {
    await swarm.close();
  }
}
