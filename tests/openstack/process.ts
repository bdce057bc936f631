/**
 * The daemons of a stack as processes: each started in a session (and process group) of
 * its own with its output appended to a log file, so that it outlives a supervisor that
 * dies and is stopped whole (uwsgi workers, Erlang's helpers) by signalling its group.
 *
 * @module
 */

/** Options of {@linkcode spawnLogged}. */
export interface SpawnOptions {
  /** The program. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Extra environment (over this process's). */
  env?: Record<string, string>;
  /** File the output is appended to. */
  logFile: string;
  /** Working folder. */
  cwd?: string;
}

/**
 * Starts `command` detached, its stdout and stderr appended to `logFile` by the shell
 * that execs it (so the output needs no reader here), and returns its pid, which is also
 * its process group.
 */
export function spawnLogged(options: SpawnOptions): Deno.ChildProcess {
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'log="$1"; shift; exec "$@" >>"$log" 2>&1 </dev/null',
      "sh",
      options.logFile,
      options.command,
      ...options.args,
    ],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child;
}

/** Whether process `pid` exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to every process of group `pgid`; a group that is gone is fine. */
export function signalGroup(pgid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

/**
 * Stops process group `pgid`: SIGTERM, then SIGKILL when something of it is still there
 * after `graceMs`; resolves once the group is gone.
 */
export async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) {
      signalGroup(pgid, "SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (!groupAlive(pgid)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `command` to completion; throws with its output when it fails. */
export async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; what?: string } = {},
): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  if (!output.success) {
    const stderr = decoder.decode(output.stderr);
    throw new Error(
      `${options.what ?? `${command} ${args.join(" ")}`} exited with ${output.code}: ${
        (stderr || stdout).trim().split("\n").slice(-15).join("\n")
      }`,
    );
  }
  return stdout;
}

/** `count` distinct free TCP ports on 127.0.0.1 (all held open until every one is chosen). */
export function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((listener) => (listener.addr as Deno.NetAddr).port);
  for (const listener of listeners) listener.close();
  return ports;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function listening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` every `intervalMs` until it is true; throws `what` after `timeoutMs`. */
export async function until(
  what: string,
  probe: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; intervalMs?: number; failed?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (true) {
    const failure = options.failed?.();
    if (failure !== undefined) throw new Error(`${what}: ${failure}`);
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${options.timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}
