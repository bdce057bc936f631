/**
 * The `httpGet` probe over a probe connection: one HTTP/1.1 GET with the kubelet's headers
 * (`Host`, `User-Agent: kube-probe/1.36`, `Accept: *\/*`, the probe's `httpHeaders`
 * overriding them), passed for a status from 200 to 399 as the kubelet decides it. HTTPS
 * wraps the connection in TLS without verifying the certificate, as the kubelet does.
 *
 * @module
 */

import tls from "node:tls";
import type { ByteStream } from "../provider.ts";
import { errorMessage } from "../errors.ts";
import { failed, PASSED, PROBE_USER_AGENT, type ProbeOutcome } from "./outcome.ts";
import { nodeDuplex, type ProbeConnection, webStreams } from "./connect.ts";

/** What to ask for. */
export interface HttpProbeRequest {
  scheme: "HTTP" | "HTTPS";
  /** Host and port as the URL names them, `10.0.0.5:8080`. */
  authority: string;
  path: string;
  headers: { name: string; value: string }[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The request head the kubelet would send. */
export function requestHead(request: HttpProbeRequest): string {
  const headers = new Map<string, [string, string]>([
    ["host", ["Host", request.authority]],
    ["user-agent", ["User-Agent", PROBE_USER_AGENT]],
    ["accept", ["Accept", "*/*"]],
  ]);
  for (const { name, value } of request.headers) headers.set(name.toLowerCase(), [name, value]);
  headers.set("connection", ["Connection", "close"]);
  const lines = [...headers.values()].map(([name, value]) => `${name}: ${value}`);
  return `GET ${request.path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** The TLS session over `stream`, as web streams, without certificate checks. */
async function overTls(stream: ByteStream, servername: string): Promise<ByteStream> {
  const socket = tls.connect({
    socket: nodeDuplex(stream),
    rejectUnauthorized: false,
    ...(/^[\d.:\[\]]+$/.test(servername) ? {} : { servername }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  return webStreams(socket);
}

/** Reads until the end of the status line; `undefined` when the server closed before. */
async function readStatusLine(readable: ReadableStream<Uint8Array>): Promise<string | undefined> {
  const reader = readable.getReader();
  let text = "";
  try {
    while (text.length < 16_384) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      text += decoder.decode(value, { stream: true });
      const end = text.indexOf("\r\n");
      if (end >= 0) return text.slice(0, end);
    }
    return text;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Runs the GET over `connection` until `signal` (the probe's timeout) aborts. A status
 * below 200 or from 400 fails with `HTTP probe failed with statuscode: N`; a broken or
 * timed-out exchange fails with Go's wording (`Get "http://…": context deadline exceeded`).
 */
export async function httpProbe(
  connection: ProbeConnection,
  request: HttpProbeRequest,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const url = `${request.scheme.toLowerCase()}://${request.authority}${request.path}`;
  const exchange = async (): Promise<ProbeOutcome> => {
    const stream = request.scheme === "HTTPS"
      ? await overTls(connection.stream, request.authority.replace(/:\d+$/, ""))
      : connection.stream;
    const writer = stream.writable.getWriter();
    await writer.write(encoder.encode(requestHead(request)));
    writer.releaseLock();
    const line = await readStatusLine(stream.readable);
    const match = line === undefined ? null : /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(line);
    if (match === null) {
      return failed(
        `Get "${url}": ${line === undefined ? "EOF" : `malformed HTTP response "${line}"`}`,
      );
    }
    const status = Number(match[1]);
    return status >= 200 && status < 400
      ? PASSED
      : failed(`HTTP probe failed with statuscode: ${status}`);
  };
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<ProbeOutcome>((resolve) => {
    onAbort = () =>
      resolve(
        failed(
          `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
        ),
      );
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([
      exchange().catch((error) => failed(`Get "${url}": ${errorMessage(error)}`)),
      timedOut,
    ]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    connection.close();
  }
}
