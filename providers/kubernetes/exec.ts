/**
 * `kubectl exec` through the lower cluster's API: `pods/<name>/exec` over a WebSocket
 * with the `v5.channel.k8s.io` protocol (or `v4`), as kubectl itself speaks it. Every
 * binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final status
 * (a `Status` object), 4 terminal sizes, and in v5 255 to close a channel (stdin, when the
 * client's input ends). The lower node's kubelet (or simulator) runs the command.
 *
 * @module
 */

import type { Status } from "kubernetes-types/meta/v1.d.ts";
import type { ExecOptions } from "../../lib/provider.ts";
import { UnavailableError } from "../../lib/provider.ts";
import { type ClientConfig, errorMessage } from "../../lib/provider_kit/mod.ts";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/** The pod and container to run a command in, by their lower names. */
export interface LowerContainer {
  namespace: string;
  pod: string;
  container: string;
}

/** The URL of `pods/exec` for `target` and `options` on the server `server`. */
export function execUrl(server: string, target: LowerContainer, options: ExecOptions): URL {
  const url = new URL(
    `${server}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${
      encodeURIComponent(target.pod)
    }/exec`,
  );
  url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
  for (const part of options.command) url.searchParams.append("command", part);
  url.searchParams.set("container", target.container);
  const { streams } = options;
  if (streams.stdin) url.searchParams.set("stdin", "true");
  if (streams.stdout) url.searchParams.set("stdout", "true");
  if (streams.stderr && !streams.tty) url.searchParams.set("stderr", "true");
  if (streams.tty) url.searchParams.set("tty", "true");
  return url;
}

/**
 * The exit code a final `Status` reports: 0 for Success, the `ExitCode` cause of
 * `NonZeroExitCode`, the code in a runtime's "exit status N" message, 127 for a command
 * that does not exist; an `Error` with the message for anything else.
 */
export function exitCodeOf(status: Status): number | Error {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (status.reason === "NonZeroExitCode" && cause?.message !== undefined) {
    const code = Number(cause.message);
    if (Number.isInteger(code)) return code;
  }
  const message = status.message ?? "the command failed without a message";
  const exited = /exit status (\d+)\s*$/.exec(message);
  if (exited) return Number(exited[1]);
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(message)) {
    return 127;
  }
  return new Error(message);
}

function framed(channel: number, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(bytes.length + 1);
  frame[0] = channel;
  frame.set(bytes, 1);
  return frame;
}

/** What the WebSocket needs of the lower cluster's client configuration. */
export interface ExecConnection {
  /** Server URL, token and TLS material. */
  config: ClientConfig;
  /** The HTTP client carrying the CA and client certificate, if any. */
  httpClient?: Deno.HttpClient;
}

async function bearerToken(config: ClientConfig): Promise<string | undefined> {
  if (config.token !== undefined) return config.token;
  if (config.tokenFile === undefined) return undefined;
  return (await Deno.readTextFile(config.tokenFile)).trim();
}

/** Runs `options.command` in `target` through the lower API server; resolves with the exit code. */
export async function execInLowerPod(
  connection: ExecConnection,
  target: LowerContainer,
  options: ExecOptions,
  signal: AbortSignal,
): Promise<number> {
  signal.throwIfAborted();
  const { streams } = options;
  const token = await bearerToken(connection.config);
  const url = execUrl(connection.config.server, target, options);
  const socket = new WebSocket(url, {
    protocols: PROTOCOLS,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    ...(connection.httpClient === undefined ? {} : { client: connection.httpClient }),
  });
  socket.binaryType = "arraybuffer";
  const stdout = streams.stdout?.getWriter();
  const stderr = streams.stderr?.getWriter();
  let output = Promise.resolve();
  let statusText = "";
  let opened = false;
  const decoder = new TextDecoder();
  const where =
    `exec in ${target.namespace}/${target.pod} (${target.container}) of the lower cluster`;

  const sessionEnded = new AbortController();
  const ended = new Promise<number>((resolve, reject) => {
    const onAbort = () => socket.close();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.onopen = () => {
      opened = true;
      void pumpInput(socket, options, signal, sessionEnded.signal);
    };
    socket.onmessage = (event) => {
      if (!(event.data instanceof ArrayBuffer) || event.data.byteLength === 0) return;
      const bytes = new Uint8Array(event.data);
      const payload = bytes.subarray(1);
      switch (bytes[0]) {
        case STDOUT:
          if (stdout) output = output.then(() => stdout.write(payload.slice()));
          break;
        case STDERR:
          if (stderr) output = output.then(() => stderr.write(payload.slice()));
          break;
        case ERROR:
          statusText += decoder.decode(payload);
          break;
      }
    };
    socket.onerror = () => {
      // The close event that follows says what happened.
    };
    socket.onclose = async (event) => {
      sessionEnded.abort();
      signal.removeEventListener("abort", onAbort);
      try {
        await output;
      } catch {
        // The client went away; nothing more to write.
      }
      await Promise.all([stdout?.close(), stderr?.close()].map((p) => p?.catch(() => undefined)));
      if (signal.aborted) return reject(signal.reason);
      if (!opened) {
        return reject(
          new UnavailableError(
            `${where}: the lower API server did not accept the session (code ${event.code}${
              event.reason ? `, ${event.reason}` : ""
            }); is the pod running and its node's kubelet reachable?`,
          ),
        );
      }
      if (statusText === "") return resolve(0);
      let status: Status;
      try {
        status = JSON.parse(statusText) as Status;
      } catch (error) {
        return reject(
          new UnavailableError(`${where}: unreadable final status: ${errorMessage(error)}`),
        );
      }
      const code = exitCodeOf(status);
      if (typeof code === "number") return resolve(code);
      reject(new UnavailableError(`${where}: ${code.message}`));
    };
  });
  return await ended;
}

/**
 * Sends the client's input and terminal sizes until they end or `ended` aborts (the
 * session is over: input still open is let go of, not read further).
 */
async function pumpInput(
  socket: WebSocket,
  options: ExecOptions,
  signal: AbortSignal,
  ended: AbortSignal,
) {
  const { streams } = options;
  const send = (channel: number, bytes: Uint8Array) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(framed(channel, bytes));
  };
  const encoder = new TextEncoder();
  if (streams.tty && streams.resize) {
    void (async () => {
      try {
        for await (const size of streams.resize!) {
          if (signal.aborted || socket.readyState !== WebSocket.OPEN) break;
          send(RESIZE, encoder.encode(JSON.stringify({ Width: size.width, Height: size.height })));
        }
      } catch {
        // The session ended.
      }
    })();
  }
  if (!streams.stdin) return;
  const reader = streams.stdin.getReader();
  const release = () => void reader.cancel().catch(() => undefined);
  ended.addEventListener("abort", release, { once: true });
  try {
    while (socket.readyState === WebSocket.OPEN) {
      const { value, done } = await reader.read();
      if (done) break;
      send(STDIN, value);
    }
    if (socket.protocol === PROTOCOLS[0]) send(CLOSE, Uint8Array.of(STDIN));
  } catch {
    // The client went away.
  } finally {
    ended.removeEventListener("abort", release);
    reader.releaseLock();
  }
}
