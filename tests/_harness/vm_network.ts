/**
 * A VM's IP made real for the ZStack end-to-end tests (root only): a network namespace at
 * the far end of a veth pair holds the address the simulator gives the VM, and servers the
 * tests run inside it (`serveIn`) listen on it; the agent, in the host namespace, reaches
 * them through the pair.
 *
 * @module
 */

import { repoRoot } from "./cluster.ts";

async function ip(...args: string[]): Promise<void> {
  const output = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  if (output.code !== 0) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** A network namespace holding `vmIp` on a veth pair whose host end has `hostIp` (/30). */
export async function vmNetwork(
  tag: string,
  hostIp: string,
  vmIp: string,
): Promise<{ netns: string; remove(): Promise<void> }> {
  const netns = `vkpf-${tag}`;
  const hostIf = `vkpfh${tag}`;
  const nsIf = `vkpfn${tag}`;
  await ip("netns", "add", netns);
  try {
    await ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf, "netns", netns);
    await ip("addr", "add", `${hostIp}/30`, "dev", hostIf);
    await ip("link", "set", hostIf, "up");
    await ip("netns", "exec", netns, "ip", "addr", "add", `${vmIp}/30`, "dev", nsIf);
    await ip("netns", "exec", netns, "ip", "link", "set", nsIf, "up");
    await ip("netns", "exec", netns, "ip", "link", "set", "lo", "up");
  } catch (error) {
    await ip("netns", "del", netns).catch(() => {});
    throw error;
  }
  return {
    netns,
    /** Deleting the namespace deletes the pair too. */
    remove: () => ip("netns", "del", netns).catch(() => {}),
  };
}

/**
 * Runs the harness server `script` (`tests/_harness/<script>`, which prints `listening`
 * once it accepts) inside `netns` with `args`; resolves once it listens.
 */
export async function serveIn(
  netns: string,
  script: string,
  args: string[],
): Promise<{ stop(): Promise<void> }> {
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      netns,
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      `${repoRoot}/tests/_harness/${script}`,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("listening")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${script} in ${netns} exited: ${text}`);
    text += value;
  }
  void reader.cancel().catch(() => {});
  return {
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited meanwhile
      }
      await child.status;
    },
  };
}
