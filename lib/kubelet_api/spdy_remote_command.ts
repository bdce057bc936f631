/**
 * exec and attach over SPDY/3.1, as the API server (and kubectl talking to a kubelet
 * directly) speaks them: negotiate the remote-command version from
 * `X-Stream-Protocol-Version`, switch protocols, wait for the client's streams (`error`,
 * then `stdin`, `stdout`, `stderr` or `resize` as the query asked) within the creation
 * timeout, run the command on them, then write the status on the error stream, half-close
 * every stream and end the session with GOAWAY.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ExecStreams } from "../provider.ts";
import { HttpError } from "./http_errors.ts";
import {
  type CommandOutcome,
  hasResizeStream,
  negotiateProtocol,
  offeredProtocols,
  type RemoteCommandOptions,
  spdyRemoteCommandProtocols,
  statusBytes,
  terminalSizes,
} from "./remote_command.ts";
import type { UpgradeContext } from "./routes.ts";
import { socketByteStream } from "./socket_streams.ts";
import { SpdySession, type SpdyStream } from "./spdy/session.ts";

const logger = getLogger(["vkedge", "kubelet_api", "streaming"]);

/** Runs the command (or attaches) on the session's streams; resolves with how it ended. */
export type RemoteCommandRunner = (
  streams: ExecStreams,
  signal: AbortSignal,
) => Promise<CommandOutcome>;

/** Timeouts of streaming sessions, from `--stream-idle-timeout` and `--stream-creation-timeout`. */
export interface StreamTimeouts {
  /** A session without data for this long is closed; 0: never. */
  idleTimeoutMs: number;
  /** How long the client has to open its streams (or, for port-forward, a stream's pair). */
  creationTimeoutMs: number;
}

const streamTypes = ["error", "stdin", "stdout", "stderr", "resize"] as const;
type StreamType = typeof streamTypes[number];

/** Whether the request asks to switch to SPDY/3.1. */
export function isSpdyUpgrade(request: Request): boolean {
  return (request.headers.get("upgrade") ?? "").toLowerCase().split(",").map((each) => each.trim())
    .includes("spdy/3.1");
}

/** The 101 head of a SPDY upgrade that settled on `protocol` (none for a legacy client). */
export function spdyUpgradeHeaders(protocol: string): Record<string, string> {
  return {
    connection: "Upgrade",
    upgrade: "SPDY/3.1",
    ...(protocol === "" ? {} : { "x-stream-protocol-version": protocol }),
  };
}

/** A writable that sends on `stream` and half-closes it when closed. */
export function spdyWritable(stream: SpdyStream): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => stream.write(chunk),
    close: () => stream.close(),
    abort: () => stream.close(),
  });
}

/** Serves one exec or attach request over SPDY; resolves when the session has ended. */
export async function serveSpdyRemoteCommand(
  context: UpgradeContext,
  options: {
    query: RemoteCommandOptions;
    run: RemoteCommandRunner;
    timeouts: StreamTimeouts;
    name: string;
  },
): Promise<void> {
  const { query, timeouts, name } = options;
  if (!isSpdyUpgrade(context.request)) {
    throw new HttpError(400, "unable to upgrade: expected Upgrade: SPDY/3.1 or websocket");
  }
  const protocol = negotiateProtocol(
    offeredProtocols(context.request.headers.get("x-stream-protocol-version")),
    spdyRemoteCommandProtocols,
  );
  const expected: StreamType[] = [
    "error",
    ...(query.stdin ? ["stdin" as const] : []),
    ...(query.stdout ? ["stdout" as const] : []),
    ...(query.stderr ? ["stderr" as const] : []),
    ...(query.tty && hasResizeStream(protocol) ? ["resize" as const] : []),
  ];
  const streams = new Map<StreamType, SpdyStream>();
  let allArrived!: () => void;
  const arrived = new Promise<void>((resolve) => allArrived = resolve);
  context.switchProtocols(spdyUpgradeHeaders(protocol));
  logger.debug("{name}: SPDY/3.1 session, protocol {protocol}", {
    name,
    protocol: protocol || "(none: v1)",
  });
  const session = new SpdySession(socketByteStream(context.socket, context.head), {
    name,
    idleTimeoutMs: timeouts.idleTimeoutMs,
    onStream(stream) {
      const type = stream.headers["streamtype"] as StreamType;
      if (!streamTypes.includes(type)) {
        throw new Error(`unexpected stream type: "${stream.headers["streamtype"] ?? ""}"`);
      }
      if (streams.has(type)) throw new Error(`stream type "${type}" opened twice`);
      streams.set(type, stream);
      if (expected.every((each) => streams.has(each))) allArrived();
    },
  });
  const signal = AbortSignal.any([session.signal, context.signal]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeouts.creationTimeoutMs);
  });
  const ended = new Promise<"ended">((resolve) => {
    if (signal.aborted) resolve("ended");
    signal.addEventListener("abort", () => resolve("ended"), { once: true });
  });
  const first = await Promise.race([arrived.then(() => "arrived" as const), timedOut, ended]);
  clearTimeout(timer);
  if (first !== "arrived") {
    if (first === "timeout") {
      logger.warn(
        "{name}: timed out waiting for client to create streams ({found} of {expected})",
        {
          name,
          found: [...streams.keys()].join(", "),
          expected: expected.join(", "),
        },
      );
      const error = streams.get("error");
      if (error) {
        await error.write(
          statusBytes({
            kind: "failed",
            error: new Error("timed out waiting for client to create streams"),
          }, protocol),
        ).catch(() => {});
      }
    }
    await session.close();
    return;
  }
  const stdin = streams.get("stdin");
  const stdout = streams.get("stdout");
  const stderr = streams.get("stderr");
  const resize = streams.get("resize");
  const execStreams: ExecStreams = {
    tty: query.tty,
    ...(stdin ? { stdin: stdin.readable } : {}),
    ...(stdout ? { stdout: spdyWritable(stdout) } : {}),
    ...(stderr ? { stderr: spdyWritable(stderr) } : {}),
    ...(resize
      ? {
        resize: terminalSizes(resize.readable, (message) =>
          logger.debug("{name}: {message}", { name, message })),
      }
      : {}),
  };
  let outcome = await options.run(execStreams, signal);
  if (session.end === "idle-timeout") outcome = { kind: "failed", error: session.signal.reason };
  if (outcome.kind === "failed") {
    logger.info("{name} failed: {error}", { name, error: String(outcome.error) });
  }
  await Promise.all([stdout?.close(), stderr?.close()]);
  stdin?.readable.cancel().catch(() => {});
  const error = streams.get("error")!;
  const status = statusBytes(outcome, protocol);
  if (status.length > 0) await error.write(status).catch(() => {});
  await error.close();
  resize?.reset();
  await session.close();
}
