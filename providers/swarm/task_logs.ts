/**
 * `kubectl logs` from a task's log (`GET /tasks/{id}/logs`): the Engine is asked with
 * timestamps and does `tail`, `since` and `follow` itself; its multiplexed stream (raw
 * for a TTY container) is decoded and cut into lines, each written with the kubelet's
 * nine-digit timestamp when asked, and cut at `limitBytes`. A followed log ends when the
 * task ends, as `kubectl logs -f` does when a container exits.
 *
 * @module
 */

import type { ContainerLogOptions } from "../../lib/provider.ts";
import type { EngineClient } from "./client.ts";
import { FrameDecoder } from "./multiplex.ts";

/** Options of {@linkcode taskLogStream}. */
export interface TaskLogStreamOptions {
  /** The kubelet's log options (`previous` is the caller's: it picks the task). */
  options: ContainerLogOptions;
  /** Whether the container has a TTY (its log is then not multiplexed). */
  tty: boolean;
  /** Resolves once the task has ended (for `follow`), or when `signal` aborts. */
  ended?: (signal: AbortSignal) => Promise<void>;
  /** How long a followed log keeps reading after the task ended (default 1 s). */
  drainMs?: number;
  /** Clock, for `sinceSeconds`. */
  now?: () => number;
}

/** An Engine log timestamp (RFC 3339, zeros trimmed) with nine fractional digits. */
export function kubeletTimestamp(engine: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(engine);
  if (match === null) return engine;
  return `${match[1]}.${(match[2] ?? "").padEnd(9, "0")}Z`;
}

/** Splits `TIMESTAMP text` into its parts; a line without one keeps its text whole. */
export function splitTimestamp(line: string): { timestamp?: string; text: string } {
  const space = line.indexOf(" ");
  const head = space < 0 ? line : line.slice(0, space);
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(head)) return { text: line };
  return { timestamp: kubeletTimestamp(head), text: space < 0 ? "" : line.slice(space + 1) };
}

/** The Engine's `since`: Unix seconds with a fraction. */
export function sinceOf(options: ContainerLogOptions, now: () => number): number | undefined {
  if (options.sinceTime !== undefined) return options.sinceTime.getTime() / 1000;
  if (options.sinceSeconds !== undefined) return (now() - options.sinceSeconds * 1000) / 1000;
  return undefined;
}

/** The log of task `taskId` as the kubelet writes it. */
export async function taskLogStream(
  client: EngineClient,
  taskId: string,
  streamOptions: TaskLogStreamOptions,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const { options, tty } = streamOptions;
  const follow = options.follow === true;
  const stop = new AbortController();
  const upstreamSignal = AbortSignal.any([signal, stop.signal]);
  const since = sinceOf(options, streamOptions.now ?? Date.now);
  const upstream = await client.taskLogs(
    taskId,
    { tail: options.tail, since, follow },
    upstreamSignal,
  );
  if (follow && streamOptions.ended !== undefined) {
    void streamOptions.ended(upstreamSignal).then(() =>
      setTimeout(() => stop.abort(), streamOptions.drainMs ?? 1_000)
    );
  }
  const reader = upstream.getReader();
  const stopped = new Promise<ReadableStreamReadResult<Uint8Array>>((resolve) => {
    const done = () => resolve({ done: true, value: undefined });
    if (upstreamSignal.aborted) done();
    else upstreamSignal.addEventListener("abort", done, { once: true });
  });
  const frames = new FrameDecoder();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  /** Unfinished line of each stream (stdout 1, stderr 2). */
  const partial = new Map<number, string>();
  let remaining = options.limitBytes ?? Infinity;

  function lines(stream: number, bytes: Uint8Array): string[] {
    const text = (partial.get(stream) ?? "") + decoder.decode(bytes);
    const parts = text.split("\n");
    partial.set(stream, parts.pop() ?? "");
    return parts;
  }

  function render(line: string): Uint8Array {
    const { timestamp, text } = splitTimestamp(line.replace(/\r$/, ""));
    const out = options.timestamps && timestamp !== undefined
      ? `${timestamp} ${text}\n`
      : `${text}\n`;
    let bytes = encoder.encode(out);
    if (bytes.length > remaining) bytes = bytes.subarray(0, remaining);
    remaining -= bytes.length;
    return bytes;
  }

  function finish(controller: ReadableStreamDefaultController<Uint8Array>): void {
    for (const rest of partial.values()) {
      if (rest !== "" && remaining > 0) controller.enqueue(render(rest));
    }
    partial.clear();
    stop.abort();
    controller.close();
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      while (true) {
        if (remaining <= 0) return finish(controller);
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          // An abort does not always end a pending read of the body: race it.
          chunk = await Promise.race([reader.read(), stopped]);
        } catch {
          chunk = { done: true, value: undefined }; // the task ended or the client left
        }
        if (chunk.done) reader.cancel().catch(() => undefined);
        if (chunk.done) return finish(controller);
        const decoded = tty ? [{ stream: 1, bytes: chunk.value }] : frames.push(chunk.value);
        let wrote = false;
        for (const frame of decoded) {
          if (frame.stream !== 1 && frame.stream !== 2) continue;
          for (const line of lines(frame.stream, frame.bytes)) {
            if (remaining <= 0) break;
            controller.enqueue(render(line));
            wrote = true;
          }
        }
        if (wrote) return;
      }
    },
    cancel(): void {
      stop.abort();
    },
  });
}
