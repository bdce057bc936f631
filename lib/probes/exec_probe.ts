/**
 * The `exec` probe: the command runs in the container through the provider's exec
 * capability, passed on exit status 0; its output (stdout and stderr, the first 10 KiB, as
 * the kubelet keeps) is the failure's message. A provider without exec, or one that
 * cannot exec into this pod, makes the probe unsupported.
 *
 * @module
 */

import {
  type ContainerRef,
  hasExecInContainer,
  isNotImplemented,
  type Provider,
} from "../provider.ts";
import { errorMessage } from "../errors.ts";
import { ProbeUnsupportedError } from "./connect.ts";
import { failed, PASSED, type ProbeOutcome } from "./outcome.ts";

/** The most output kept for a message, as the kubelet's `maxReadLength`. */
const MAX_OUTPUT = 10 * 1024;

/** Runs `command` in the container until `signal` (the probe's timeout) aborts. */
export async function execProbe(
  provider: Provider,
  ref: ContainerRef,
  options: { command: string[] },
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const { command } = options;
  if (!hasExecInContainer(provider)) {
    throw new ProbeUnsupportedError(
      `provider ${provider.name} cannot run commands in containers, so exec probes cannot run`,
    );
  }
  const chunks: Uint8Array[] = [];
  let kept = 0;
  const collect = () =>
    new WritableStream<Uint8Array>({
      write(chunk) {
        if (kept >= MAX_OUTPUT) return;
        chunks.push(chunk.subarray(0, MAX_OUTPUT - kept));
        kept += Math.min(chunk.length, MAX_OUTPUT - kept);
      },
    });
  const run = provider.runInContainer(ref, {
    command,
    streams: { stdout: collect(), stderr: collect(), tty: false },
  }, signal);
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    onAbort = () => resolve("timeout");
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const code = await Promise.race([run, timedOut]);
    if (code === "timeout") return failed(`command "${command.join(" ")}" timed out`);
    if (code === 0) return PASSED;
    const output = new TextDecoder().decode(
      chunks.reduce((all, chunk) => new Uint8Array([...all, ...chunk]), new Uint8Array()),
    );
    return failed(output.trimEnd());
  } catch (error) {
    if (isNotImplemented(error)) throw new ProbeUnsupportedError(errorMessage(error));
    if (signal.aborted) return failed(`command "${command.join(" ")}" timed out`);
    throw error;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    run.catch(() => {});
  }
}
