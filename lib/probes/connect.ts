/**
 * The connection an `httpGet`, `tcpSocket` or `grpc` probe runs over: the provider's, for a
 * provider that dials its pods itself (`PodDialer`), else a TCP connection from the agent
 * to the pod IP (or the probe's `host`). Failures read as the kubelet's dialer words them
 * (`dial tcp 10.0.0.5:80: connect: connection refused`), since they end up in events.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { Duplex } from "node:stream";
import { type ByteStream, hasPodDialer, isNotImplemented, type Provider } from "../provider.ts";
import { errorMessage } from "../errors.ts";

/** Thrown when the agent cannot reach the pod's network: the probe is unsupported, not failed. */
export class ProbeUnsupportedError extends Error {
  override name = "ProbeUnsupportedError";
}

/** Thrown when a connection cannot be made: the probe failed with this message. */
export class DialError extends Error {
  override name = "DialError";
}

/** An open connection of a probe. */
export interface ProbeConnection {
  /** The bytes both ways. */
  stream: ByteStream;
  /** Ends the connection at once, both ways; harmless when it ended already. */
  close(): void;
  /** What was dialled, `10.0.0.5:8080`, for messages. */
  address: string;
}

/** Where a probe connects. */
export interface DialTarget {
  /** The pod (its IP, namespace and name). */
  pod: Pod;
  /** The probe's `host`, dialled instead of the pod IP. */
  host?: string;
  port: number;
}

/**
 * `stream` as a Node duplex, for `node:tls` and `node:http2` (Deno's web stream types and
 * `node:stream/web`'s differ only in how they declare a finished read).
 */
export function nodeDuplex(stream: ByteStream): Duplex {
  return Duplex.fromWeb(stream as unknown as Parameters<typeof Duplex.fromWeb>[0]);
}

/** A Node duplex as a `ByteStream`. */
export function webStreams(duplex: Duplex): ByteStream {
  return Duplex.toWeb(duplex) as unknown as ByteStream;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function closer(stream: ByteStream, also?: () => void): () => void {
  return () => {
    stream.readable.cancel().catch(() => {});
    stream.writable.abort().catch(() => {});
    try {
      also?.();
    } catch {
      // Closed already.
    }
  };
}

function dialFailure(address: string, error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) {
    return `dial tcp ${address}: connect: connection refused`;
  }
  if (error instanceof Deno.errors.TimedOut) return `dial tcp ${address}: i/o timeout`;
  return `dial tcp ${address}: ${errorMessage(error)}`;
}

/**
 * Opens the connection of a probe within `signal` (the probe's timeout). `DialError` when
 * nothing answers, `ProbeUnsupportedError` when the pod's network is out of reach (no pod
 * IP and no dialer, or the provider says it cannot).
 */
export async function connectForProbe(
  provider: Provider,
  target: DialTarget,
  signal: AbortSignal,
): Promise<ProbeConnection> {
  const { pod, port } = target;
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  if (target.host === undefined && hasPodDialer(provider)) {
    const address = hostPort(pod.status?.podIP ?? name, port);
    try {
      const stream = await provider.dialPod({ namespace, pod: name }, { port }, signal);
      return { stream, close: closer(stream), address };
    } catch (error) {
      if (isNotImplemented(error)) throw new ProbeUnsupportedError(errorMessage(error));
      if (signal.aborted) throw new DialError(`dial tcp ${address}: i/o timeout`);
      throw new DialError(`dial tcp ${address}: ${errorMessage(error)}`);
    }
  }
  const host = target.host ?? pod.status?.podIP;
  if (host === undefined || host === "") {
    throw new ProbeUnsupportedError(
      `pod ${namespace}/${name} has no IP yet and provider ${provider.name} opens no connections to its pods`,
    );
  }
  const address = hostPort(host, port);
  const connecting = Deno.connect({ hostname: host, port, transport: "tcp" });
  let onAbort: (() => void) | undefined;
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Deno.errors.TimedOut("i/o timeout"));
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    const stream = { readable: conn.readable, writable: conn.writable };
    return { stream, close: closer(stream, () => conn.close()), address };
  } catch (error) {
    // A connection that comes after the timeout is closed at once.
    connecting.then((late) => late.close(), () => {});
    throw new DialError(dialFailure(address, error));
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}
