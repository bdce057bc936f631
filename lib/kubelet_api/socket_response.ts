/**
 * HTTP/1.1 on a raw socket, for the upgrade path where `node:https` gives no `ServerResponse`:
 * a full response (status line, headers, `Connection: close`, the body) after which the
 * socket is ended, and the `101 Switching Protocols` head that hands the socket over.
 *
 * @module
 */

import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { pipeBody } from "./http_adapter.ts";

/** How long an ended socket may stay half-open before it is destroyed. */
const endGraceMs = 5_000;

/** Options of {@linkcode writeSocketResponse}. */
export interface SocketResponseOptions {
  /** Request method; HEAD gets no body. */
  method: string;
  /** Stream the body as it comes (delimited by the close) instead of buffering it for `content-length`. */
  stream?: boolean;
  /** Stops a streamed body. */
  signal?: AbortSignal;
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
}

function headerLines(headers: Iterable<[string, string]>): string {
  let text = "";
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new Error(`header ${name}: expected a value without CR or LF, found ${value}`);
    }
    text += `${name}: ${value}\r\n`;
  }
  return text;
}

/** Ends `socket` and destroys it when the peer has not closed its side within a grace period. */
export function endSocket(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), endGraceMs);
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Writes `response` on `socket` as an HTTP/1.1 response with `Connection: close`, then ends
 * the socket. The body is buffered and sent with `content-length` unless `stream` is set.
 */
export async function writeSocketResponse(
  socket: Duplex,
  response: Response,
  options: SocketResponseOptions,
): Promise<void> {
  if (socket.destroyed) {
    await response.body?.cancel();
    return;
  }
  const headers = new Headers(response.headers);
  headers.set("connection", "close");
  const body = options.method === "HEAD" ? null : response.body;
  try {
    if (body === null) {
      await response.body?.cancel();
      if (options.method !== "HEAD") headers.set("content-length", "0");
      socket.write(`${statusLine(response.status)}${headerLines(headers)}\r\n`);
    } else if (options.stream) {
      headers.delete("content-length");
      socket.write(`${statusLine(response.status)}${headerLines(headers)}\r\n`);
      await pipeBody(body, socket, {
        signal: options.signal ?? new AbortController().signal,
        what: `upgrade response ${response.status}`,
      });
    } else {
      const bytes = new Uint8Array(await new Response(body).arrayBuffer());
      headers.set("content-length", String(bytes.byteLength));
      socket.write(`${statusLine(response.status)}${headerLines(headers)}\r\n`);
      socket.write(bytes);
    }
  } finally {
    endSocket(socket);
  }
}

/** Writes the `101 Switching Protocols` head with `headers` (such as `Upgrade` and `Connection`). */
export function writeSwitchingProtocols(socket: Duplex, headers: Record<string, string>): void {
  socket.write(`${statusLine(101)}${headerLines(Object.entries(headers))}\r\n`);
}
