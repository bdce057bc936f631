/**
 * govmomi's vSphere simulator (the launcher in tests/vcsim, built once by its build.sh) as a
 * separate process for the vsphere provider's tests: started on 127.0.0.1 with a free
 * port, read through `/__sim/state` and `/__sim/stats`, paused with SIGSTOP for outages, and
 * a provider configuration for an agent that uses it (the password in a file of its own,
 * the CA file of its certificate).
 *
 * @module
 */

import { repoRoot } from "./cluster.ts";

/** A VM as `/__sim/state` shows it. */
export interface VcsimVm {
  ref: string;
  name: string;
  template: boolean;
  powerState: string;
  host: string;
  ip?: string;
  cpu: number;
  memoryMB: number;
  extraConfig: Record<string, string>;
  snapshots: string[];
  currentSnapshot?: string;
  /** Names of the VM's tasks still queued or running (`Reset`, `RelocateVm`, …). */
  tasks: string[];
}

/** What `/__sim/state` shows. */
export interface VcsimState {
  vms: VcsimVm[];
  hosts: { ref: string; name: string }[];
}

/** Options of {@linkcode startVcsim}. */
export interface StartVcsimOptions {
  /** A lone ESXi host instead of a vCenter. */
  esx?: boolean;
  /** Hosts in the cluster (default 3). */
  hosts?: number;
  /** How long each power, clone, snapshot and relocate task runs (ms). */
  taskDelayMs?: number;
  /** Power-on to guest IP (ms, default 300). */
  guestBootMs?: number;
  /** Idle time after which a session ends (s). */
  sessionTimeoutSeconds?: number;
  /** Cores and memory of each host. */
  hostCpuCores?: number;
  hostMemoryMiB?: number;
}

/** A running simulator. */
export interface VcsimProcess extends AsyncDisposable {
  url: string;
  admin: string;
  caFile: string;
  username: string;
  password: string;
  /** `VirtualCenter` or `HostAgent`. */
  apiType: string;
  pid: number;
  state(): Promise<VcsimState>;
  /** SOAP calls so far, by method. */
  stats(): Promise<{ calls: Record<string, number>; total: number }>;
  /** The VMs that are not templates. */
  vms(): Promise<VcsimVm[]>;
  /** Ends every client session (SessionManager.TerminateSession); returns how many. */
  terminateSessions(): Promise<number>;
  /** Freezes the simulator (SIGSTOP): connections hang, as with a vCenter that is down. */
  pause(): void;
  /** Lets it run again (SIGCONT). */
  resume(): void;
  /** A provider configuration for this simulator (password in a file). */
  providerConfig(extra?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Its output so far. */
  output(): Promise<string>;
  close(): Promise<void>;
}

let built: Promise<string> | undefined;

/** Builds the launcher once (cached by tests/vcsim/build.sh) and returns its path. */
export function vcsimBinary(): Promise<string> {
  built ??= (async () => {
    const result = await new Deno.Command("bash", {
      args: [`${repoRoot}/tests/vcsim/build.sh`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    if (!result.success) throw new Error(`tests/vcsim/build.sh failed:\n${stderr}`);
    return new TextDecoder().decode(result.stdout).trim().split("\n").at(-1)!;
  })();
  return built;
}

/** Starts the simulator and waits for its ready line. */
export async function startVcsim(options: StartVcsimOptions = {}): Promise<VcsimProcess> {
  const binary = await vcsimBinary();
  const dir = await Deno.makeTempDir({ prefix: "vkedge-vcsim-" });
  const args = [
    "-dir",
    dir,
    "-guest-boot",
    `${options.guestBootMs ?? 300}ms`,
  ];
  if (options.esx) args.push("-esx");
  if (options.hosts !== undefined) args.push("-host", String(options.hosts));
  if (options.taskDelayMs) args.push("-task-delay", `${options.taskDelayMs}ms`);
  if (options.sessionTimeoutSeconds) {
    args.push("-session-timeout", `${options.sessionTimeoutSeconds}s`);
  }
  if (options.hostCpuCores) args.push("-host-cpu-cores", String(options.hostCpuCores));
  if (options.hostMemoryMiB) args.push("-host-memory-mib", String(options.hostMemoryMiB));
  const logFile = `${dir}/vcsim.log`;
  const log = await Deno.open(logFile, { write: true, create: true });
  const child = new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrDone = child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void log.writeSync(chunk) }),
  ).catch(() => undefined);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      clearTimeout(deadline);
      await stderrDone;
      log.close();
      throw new Error(`vcsim exited before it served:\n${await Deno.readTextFile(logFile)}`);
    }
    buffered += value;
  }
  clearTimeout(deadline);
  const ready = JSON.parse(buffered.slice(0, buffered.indexOf("\n"))) as {
    url: string;
    admin: string;
    caFile: string;
    username: string;
    password: string;
    apiType: string;
    pid: number;
  };
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => undefined);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ready.caFile)] });
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${ready.admin}${path}`, { client });
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return await response.json() as T;
  };
  let closed = false;
  const process: VcsimProcess = {
    ...ready,
    state: () => get<VcsimState>("/state"),
    stats: () => get("/stats"),
    async vms() {
      return (await get<VcsimState>("/state")).vms.filter((vm) => !vm.template);
    },
    async terminateSessions() {
      const response = await fetch(`${ready.admin}/sessions/terminate`, { method: "POST", client });
      if (!response.ok) throw new Error(`POST /sessions/terminate: HTTP ${response.status}`);
      return ((await response.json()) as { terminated: number }).terminated;
    },
    pause: () => child.kill("SIGSTOP"),
    resume: () => child.kill("SIGCONT"),
    async providerConfig(extra = {}) {
      const passwordFile = `${dir}/password`;
      await Deno.writeTextFile(passwordFile, `${ready.password}\n`);
      return {
        endpoint: ready.url,
        auth: { username: ready.username, passwordFile },
        tls: { caFile: ready.caFile },
        clusterName: "e2e",
        ...extra,
      };
    },
    output: () => Deno.readTextFile(logFile),
    async close() {
      if (closed) return;
      closed = true;
      try {
        child.kill("SIGCONT");
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await stderrDone;
      log.close();
      client.close();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
    [Symbol.asyncDispose]() {
      return process.close();
    },
  };
  return process;
}
