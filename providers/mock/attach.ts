/**
 * `kubectl attach` to a mock container: the client sees the container's synthetic output
 * from now on (the heartbeat lines its log gets), and what it types on stdin is the
 * container's input, which the mock's process echoes back on its output. The session lasts
 * until the client detaches, the container ends or its pod is deleted.
 *
 * @module
 */

import type { AttachOptions } from "../../lib/provider.ts";
import { type LogLineSource, streamLogLines } from "../../lib/provider_kit/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Connects `options.streams` to the process whose output lines come from `lines`. */
export async function attachToConsole(
  lines: LogLineSource,
  options: AttachOptions,
  signal: AbortSignal,
): Promise<void> {
  const { stdin, stdout, stderr, tty } = options.streams;
  const writer = (stdout ?? stderr)?.getWriter();
  const write = async (text: string) => {
    await writer?.write(encoder.encode(tty ? text.replace(/\r?\n/g, "\r\n") : text));
  };
  const detached = new AbortController();
  const stop = AbortSignal.any([signal, detached.signal]);
  const output = (async () => {
    for await (const chunk of streamLogLines(lines, { follow: true, tail: 0 }, stop)) {
      await write(decoder.decode(chunk));
    }
  })();
  const input = (async () => {
    if (stdin === undefined) return;
    for await (const chunk of stdin) await write(decoder.decode(chunk));
  })();
  try {
    // The output ends with the container; a client that closed its stdin stays attached.
    await Promise.race([output, input.then(() => output)]);
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    detached.abort();
    await writer?.close().catch(() => {});
    await output.catch(() => {});
  }
}
