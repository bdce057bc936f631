/**
 * The adapter between `node:https` and the web-standard core of the kubelet API: an
 * `IncomingMessage` becomes a `Request` (headers, method, an abort signal), and a `Response`
 * is written back to a `ServerResponse` or to a raw socket, its body streamed with
 * backpressure and stopped when the signal aborts.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";

const logger = getLogger(["vkedge", "kubelet_api"]);

/** The part of a node writable stream that body piping needs. */
export interface BodySink {
  /** Writes a chunk; false asks the writer to wait for `drain`. */
  write(chunk: Uint8Array): boolean;
  /** Adds a listener. */
  on(event: "drain" | "close", listener: () => void): unknown;
  /** Removes a listener. */
  off(event: "drain" | "close", listener: () => void): unknown;
}

/** A `Request` for `req` (without its body: the kubelet API reads none), aborted by `signal`. */
export function requestOf(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
  }
  return new Request(`https://kubelet${req.url ?? "/"}`, {
    method: req.method ?? "GET",
    headers,
    signal,
  });
}

function waitForDrain(sink: BodySink): Promise<void> {
  return new Promise<void>((resolve) => {
    const resume = () => {
      sink.off("drain", resume);
      sink.off("close", resume);
      resolve();
    };
    sink.on("drain", resume);
    sink.on("close", resume);
  });
}

/**
 * Copies `body` into `sink`, waiting for `drain` when it is full; stops (cancelling the
 * body) when `options.signal` aborts. Resolves when done; a failing body is logged, not thrown.
 */
export async function pipeBody(
  body: ReadableStream<Uint8Array>,
  sink: BodySink,
  options: { signal: AbortSignal; what: string },
): Promise<void> {
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => {});
  options.signal.addEventListener("abort", stop, { once: true });
  try {
    while (!options.signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!sink.write(value)) await waitForDrain(sink);
    }
  } catch (error) {
    if (!options.signal.aborted) {
      logger.warn("response stream for {what} failed: {error}", {
        what: options.what,
        error: errorMessage(error),
      });
    }
  } finally {
    options.signal.removeEventListener("abort", stop);
  }
}

/** Writes `response` to `res`: status, headers, then the body (none for HEAD). */
export async function writeResponse(
  res: ServerResponse,
  response: Response,
  options: { method: string; signal: AbortSignal; url: string },
): Promise<void> {
  const outgoing: Record<string, string> = {};
  response.headers.forEach((value, name) => outgoing[name] = value);
  res.writeHead(response.status, outgoing);
  if (response.body === null || options.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  try {
    await pipeBody(response.body, res, { signal: options.signal, what: options.url });
  } finally {
    res.end();
  }
}
