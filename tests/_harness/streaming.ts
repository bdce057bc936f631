/**
 * What the streaming end-to-end tests and the port-forward benchmark share: kubectl runs
 * with bytes on stdin and a deadline, `kubectl port-forward` started in the background with
 * its local ports read from its output, byte-exact echo round trips through a local port,
 * and raw upgrade requests to the agent's kubelet API (for the authorization checks).
 *
 * @module
 */

import { connect as tlsConnect } from "node:tls";
import { Buffer } from "node:buffer";
import { cluster } from "./cluster.ts";

/** How a kubectl run ended. */
export interface KubectlRun {
  code: number;
  stdout: Uint8Array;
  stderr: string;
  ms: number;
}

/** Runs kubectl with `stdin` (closed at once without), extra environment and a deadline. */
export async function kubectlRun(
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<KubectlRun> {
  const c = await cluster();
  const started = Date.now();
  const child = new Deno.Command("kubectl", {
    args,
    env: { KUBECONFIG: c.kubeconfig, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin).catch(() => {});
    await writer.close().catch(() => {});
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: output.stdout,
    stderr: new TextDecoder().decode(output.stderr),
    ms: Date.now() - started,
  };
}

/** A running `kubectl port-forward`. */
export interface PortForwardProcess {
  /** Local port for each remote port, in the order asked. */
  localPorts: number[];
  /** What kubectl printed so far. */
  output(): string;
  /** Resolves with kubectl's exit code once it exits. */
  exited: Promise<number>;
  /** Stops kubectl. */
  stop(): Promise<void>;
}

/**
 * Starts `kubectl port-forward -n ns pod/NAME :P1 :P2 …` and waits until it listens on every
 * port (local ports chosen by kubectl).
 */
export async function startPortForward(
  ns: string,
  pod: string,
  ports: number[],
  options: { env?: Record<string, string> } = {},
): Promise<PortForwardProcess> {
  const c = await cluster();
  const child = new Deno.Command("kubectl", {
    args: ["port-forward", "-n", ns, `pod/${pod}`, ...ports.map((port) => `:${port}`)],
    env: { KUBECONFIG: c.kubeconfig, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const collect = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(
      new WritableStream({ write: (chunk) => void (text += decoder.decode(chunk)) }),
    ).catch(() => {});
  const copies = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then(async (status) => {
    await copies;
    return status.code;
  });
  let done = false;
  void exited.then(() => done = true);
  const deadline = Date.now() + 30_000;
  const found = () =>
    ports.map((port) =>
      new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${port}\\b`).exec(text)?.[1]
    );
  while (found().some((port) => port === undefined)) {
    if (done || Date.now() > deadline) {
      if (!done) child.kill("SIGKILL");
      await exited;
      throw new Error(`kubectl port-forward did not listen on ${ports.join(", ")}: ${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    localPorts: found().map(Number),
    output: () => text,
    exited,
    async stop() {
      if (!done) {
        try {
          child.kill("SIGTERM");
        } catch {
          // exited meanwhile
        }
      }
      await exited;
    },
  };
}

/** Deterministic pseudo-random bytes for connection `seed` (fast, no entropy limits). */
export function patternBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let state = (seed * 2654435761 + 1) >>> 0;
  for (let index = 0; index < size; index += 4) {
    state = (state * 1664525 + 1013904223) >>> 0;
    out[index] = state & 0xff;
    out[index + 1] = (state >>> 8) & 0xff;
    out[index + 2] = (state >>> 16) & 0xff;
    out[index + 3] = state >>> 24;
  }
  return out;
}

/** What one echo round trip saw. */
export interface RoundTrip {
  sent: number;
  received: number;
  /** Whether the bytes came back exactly as sent. */
  exact: boolean;
  ms: number;
}

/**
 * Connects to 127.0.0.1:`port`, sends `data` while reading, half-closes, and reads until the
 * other side closes; compares what came back with what was sent.
 */
export async function echoRoundTrip(port: number, data: Uint8Array): Promise<RoundTrip> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reading = (async () => {
    const buffer = new Uint8Array(data.length + 1);
    let received = 0;
    let extra = 0;
    for await (const chunk of conn.readable) {
      const room = buffer.length - received;
      buffer.set(chunk.subarray(0, room), received);
      received += Math.min(room, chunk.length);
      extra += Math.max(0, chunk.length - room);
    }
    return { bytes: buffer.subarray(0, received), total: received + extra };
  })();
  const writer = conn.writable.getWriter();
  for (let offset = 0; offset < data.length; offset += 256 * 1024) {
    await writer.write(data.subarray(offset, offset + 256 * 1024));
  }
  writer.releaseLock();
  await conn.closeWrite();
  const back = await reading;
  return {
    sent: data.length,
    received: back.total,
    exact: back.total === data.length && Buffer.from(back.bytes).equals(Buffer.from(data)),
    ms: performance.now() - started,
  };
}

/** The response to a raw upgrade request. */
export interface RawUpgradeAnswer {
  status: number;
  body: string;
}

/**
 * Sends a SPDY upgrade request for `path` straight to the agent's kubelet API (its
 * self-signed certificate is not checked, as the API server does not either), with a bearer
 * token or anonymously, and returns the status and body of the refusal (or the 101).
 */
export function rawUpgrade(
  port: number,
  path: string,
  options: { token?: string; host?: string } = {},
): Promise<RawUpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: options.host ?? "127.0.0.1",
      port,
      rejectUnauthorized: false,
    }, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
          `X-Stream-Protocol-Version: v4.channel.k8s.io\r\n` +
          (options.token ? `Authorization: Bearer ${options.token}\r\n` : "") +
          `Content-Length: 0\r\n\r\n`,
      );
    });
    const chunks: Uint8Array[] = [];
    const finish = () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      if (match === null) reject(new Error(`expected an HTTP response, found ${text}`));
      else resolve({ status: Number(match[1]), body });
    };
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).toString("latin1").startsWith("HTTP/1.1 101")) {
        socket.destroy();
        finish();
      }
    });
    socket.on("end", finish);
    socket.on("error", reject);
  });
}
