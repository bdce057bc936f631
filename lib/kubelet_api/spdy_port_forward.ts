/**
 * port-forward over SPDY/3.1 (`portforward.k8s.io`): for every local connection the client
 * opens an `error` and a `data` stream with the same `port` and `requestid` headers; once
 * both are there the data stream is handed to the provider as the connection to that port
 * of the pod, and a failure is written on the error stream (the text kubectl prints). A pair
 * that stays incomplete past the creation timeout is reset. The session serves any number
 * of pairs, concurrently, until the client closes it or it idles out.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import type { ByteStream, PodRef, PortForwardOptions } from "../provider.ts";
import { HttpError } from "./http_errors.ts";
import { negotiateProtocol, offeredProtocols } from "./remote_command.ts";
import type { UpgradeContext } from "./routes.ts";
import { socketByteStream } from "./socket_streams.ts";
import { RstStatus } from "./spdy/frames.ts";
import { SpdySession, type SpdyStream } from "./spdy/session.ts";
import { isSpdyUpgrade, spdyUpgradeHeaders, spdyWritable } from "./spdy_remote_command.ts";
import type { StreamTimeouts } from "./spdy_remote_command.ts";

const logger = getLogger(["vkedge", "kubelet_api", "streaming"]);

/** The port-forward protocol of the kubelet's SPDY server. */
export const portForwardProtocol = "portforward.k8s.io";

/** Connects one forwarded connection to a port of the pod (the provider's `portForward`). */
export type PortForwardFunction = (
  ref: PodRef,
  options: PortForwardOptions,
  signal: AbortSignal,
) => Promise<void>;

/** What serving port-forward needs besides the connection. */
export interface PortForwardServeOptions {
  /** The pod whose ports are forwarded. */
  ref: PodRef;
  /** Connects one connection. */
  forward: PortForwardFunction;
  /** Timeouts of the session and of stream pairs. */
  timeouts: StreamTimeouts;
  /** Name for logs. */
  name: string;
}

interface StreamPair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  timer?: ReturnType<typeof setTimeout>;
}

/** The port a stream's `port` header names; throws for a missing or invalid one. */
export function streamPort(header: string | undefined): number {
  const port = Number(header);
  if (header === undefined || !/^\d+$/.test(header) || port < 1 || port > 65535) {
    throw new Error(`expected a "port" header from 1 to 65535, found ${JSON.stringify(header)}`);
  }
  return port;
}

/**
 * Serves port-forward pairs on a SPDY session over `transport` until it ends (used for the
 * upgraded connection and for the WebSocket tunnel alike).
 */
export async function servePortForwardSession(
  transport: ByteStream,
  options: PortForwardServeOptions,
  parent: AbortSignal,
): Promise<void> {
  const { name, timeouts } = options;
  const pairs = new Map<string, StreamPair>();
  const running = new Set<Promise<void>>();
  const session: SpdySession = new SpdySession(transport, {
    name,
    idleTimeoutMs: timeouts.idleTimeoutMs,
    onStream(stream) {
      const port = streamPort(stream.headers["port"]);
      const type = stream.headers["streamtype"];
      if (type !== "error" && type !== "data") {
        throw new Error(`expected streamtype "error" or "data", found ${JSON.stringify(type)}`);
      }
      // Clients older than the requestid header pair error stream N with data stream N+2.
      const requestId = stream.headers["requestid"] ??
        String(type === "error" ? stream.id : stream.id - 2);
      let pair = pairs.get(requestId);
      if (pair === undefined) {
        pair = { port };
        pairs.set(requestId, pair);
        const waiting = pair;
        waiting.timer = setTimeout(() => {
          pairs.delete(requestId);
          logger.warn("{name}: request {requestId}: timed out waiting for its streams", {
            name,
            requestId,
          });
          waiting.error?.reset(RstStatus.cancel);
          waiting.data?.reset(RstStatus.cancel);
        }, timeouts.creationTimeoutMs);
      }
      if (pair[type] !== undefined) {
        throw new Error(`request ${requestId}: a second ${type} stream`);
      }
      pair[type] = stream;
      if (pair.error && pair.data) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        const started = forwardPair(pair as Required<StreamPair>, options, signal);
        running.add(started);
        void started.finally(() => running.delete(started));
      }
    },
  });
  const signal = AbortSignal.any([session.signal, parent]);
  const stop = () => void session.close(1_000);
  parent.addEventListener("abort", stop, { once: true });
  try {
    await session.done;
  } finally {
    parent.removeEventListener("abort", stop);
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    await Promise.all(running);
  }
}

async function forwardPair(
  pair: Required<StreamPair>,
  options: PortForwardServeOptions,
  signal: AbortSignal,
): Promise<void> {
  const { ref, name } = options;
  try {
    await options.forward(ref, {
      port: pair.port,
      connection: { readable: pair.data.readable, writable: spdyWritable(pair.data) },
    }, signal);
  } catch (error) {
    const message = `error forwarding port ${pair.port} to pod ${ref.namespace}/${ref.pod}${
      ref.uid ? `, uid ${ref.uid}` : ""
    }: ${errorMessage(error)}`;
    logger.info("{name}: {message}", { name, message });
    await pair.error.write(new TextEncoder().encode(message)).catch(() => {});
  } finally {
    await pair.data.close();
    await pair.error.close();
    pair.data.readable.cancel().catch(() => {});
  }
}

/** Serves one port-forward request over SPDY; resolves when the session has ended. */
export async function serveSpdyPortForward(
  context: UpgradeContext,
  options: PortForwardServeOptions,
): Promise<void> {
  if (!isSpdyUpgrade(context.request)) {
    throw new HttpError(400, "unable to upgrade: expected Upgrade: SPDY/3.1 or websocket");
  }
  const protocol = negotiateProtocol(
    offeredProtocols(context.request.headers.get("x-stream-protocol-version")),
    [portForwardProtocol],
  );
  context.switchProtocols(spdyUpgradeHeaders(protocol));
  logger.debug("{name}: SPDY/3.1 session", { name: options.name });
  await servePortForwardSession(
    socketByteStream(context.socket, context.head),
    options,
    context.signal,
  );
}
