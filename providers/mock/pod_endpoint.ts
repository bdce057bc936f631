/**
 * What answers on a mock pod's declared TCP `containerPort`s, for port-forward and for the
 * agent's probes (`dialPod`): an HTTP/1.x request gets the port's HTTP status, an HTTP/2
 * connection the gRPC health service (`grpc.health.v1.Health/Check`: `SERVING` while the
 * port's status is below 400, else `NOT_SERVING`), anything else is echoed back byte for
 * byte. The status is 200 unless the pod's annotations say otherwise, so that a test flips
 * a readiness or liveness endpoint with `kubectl annotate`:
 *
 * - `mock.vkedge.io/http-status: "503"`: every declared port answers 503;
 * - `mock.vkedge.io/http-status-8080: "500"`: port 8080 answers 500 (wins over the first).
 *
 * Ports the pod does not declare refuse the connection, naming the ports that answer.
 *
 * @module
 */

import http2 from "node:http2";
import { Duplex } from "node:stream";
import type { Socket } from "node:net";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type ByteStream, UnavailableError } from "../../lib/provider.ts";
import { podKey } from "../../lib/provider_kit/mod.ts";

/** The annotation that sets the HTTP status of every declared port. */
export const HTTP_STATUS_ANNOTATION = "mock.vkedge.io/http-status";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HTTP2_PREFACE = "PRI * HTTP/2.0\r\n";
const HTTP_REQUEST = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) \S+ HTTP\/1\.[01]\r?\n/;
const HTTP_METHOD_PREFIX = /^[A-Z]{0,7}( \S*( H?T?T?P?\/?1?\.?[01]?\r?)?)?$/;

/** The TCP ports the pod's containers declare, in order, without repeats. */
export function declaredPorts(pod: Pod): number[] {
  const ports = new Set<number>();
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if ((port.protocol ?? "TCP") === "TCP") ports.add(port.containerPort);
    }
  }
  return [...ports];
}

/** The HTTP status `port` of `pod` answers with (200 unless an annotation says otherwise). */
export function httpStatusOf(pod: Pod, port: number): number {
  const annotations = pod.metadata?.annotations ?? {};
  const text = annotations[`${HTTP_STATUS_ANNOTATION}-${port}`] ??
    annotations[HTTP_STATUS_ANNOTATION];
  const status = Number(text);
  return Number.isInteger(status) && status >= 100 && status <= 599 ? status : 200;
}

/** Refuses a port the pod does not declare, as a closed port would. */
export function refuseUndeclared(pod: Pod, port: number): void {
  const ports = declaredPorts(pod);
  if (ports.includes(port)) return;
  throw new UnavailableError(
    `connection refused: pod ${
      podKey(pod)
    } does not listen on port ${port} (the mock echoes on its declared containerPorts: ${
      ports.length > 0 ? ports.join(", ") : "none"
    })`,
  );
}

function httpResponse(pod: Pod, port: number): Uint8Array {
  const status = httpStatusOf(pod, port);
  const body = `mock: pod ${podKey(pod)} port ${port} answers ${status}\n`;
  return encoder.encode(
    `HTTP/1.1 ${status} ${status < 400 ? "OK" : "Error"}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${encoder.encode(body).length}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Serves the gRPC health service on one HTTP/2 connection until it ends. */
async function serveGrpcHealth(
  pod: () => Pod,
  port: number,
  connection: Duplex,
): Promise<void> {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    if (headers[":path"] !== "/grpc.health.v1.Health/Check") {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, {
        endStream: true,
      });
      return;
    }
    stream.on("data", () => {});
    stream.on("end", () => {
      const serving = httpStatusOf(pod(), port) < 400 ? 1 : 2;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(new Uint8Array([0, 0, 0, 0, 2, 0x08, serving]));
    });
  });
  await new Promise<void>((resolve) => {
    connection.once("close", () => resolve());
    connection.once("error", () => resolve());
    server.emit("connection", connection as Socket);
  });
  server.close();
}

/**
 * Serves one connection to `port` of the pod (`pod()` gives it as it is now, for its
 * annotations) until the client ends it or `signal` aborts.
 */
export async function servePodPort(
  pod: () => Pod,
  port: number,
  connection: ByteStream,
  signal: AbortSignal,
): Promise<void> {
  const reader = connection.readable.getReader();
  const writer = connection.writable.getWriter();
  let seen = new Uint8Array();
  try {
    while (true) {
      const text = decoder.decode(seen);
      if (text.startsWith(HTTP2_PREFACE)) {
        writer.releaseLock();
        const replay = seen;
        const readable = new ReadableStream<Uint8Array>({
          start: (controller) => controller.enqueue(replay),
          pull: async (controller) => {
            const { value, done } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          },
        });
        const duplex = Duplex.fromWeb(
          { readable, writable: connection.writable } as unknown as Parameters<
            typeof Duplex.fromWeb
          >[0],
        );
        await serveGrpcHealth(pod, port, duplex);
        return;
      }
      if (HTTP_REQUEST.test(text)) {
        await writer.write(httpResponse(pod(), port));
        await writer.close();
        return;
      }
      const line = text.split("\n")[0];
      const couldBeHttp = text.length < 64 && (HTTP2_PREFACE.startsWith(text) ||
        HTTP_METHOD_PREFIX.test(line));
      if (!couldBeHttp) break;
      const { value, done } = await reader.read();
      if (done) break;
      seen = new Uint8Array([...seen, ...value]);
    }
    // Not HTTP: echo what came and everything after it.
    if (seen.length > 0) await writer.write(seen);
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    reader.releaseLock();
    try {
      writer.releaseLock();
    } catch {
      // Released for the HTTP/2 connection already.
    }
  }
}

/** A connection whose far end `servePodPort` serves: what `dialPod` returns. */
export function dialPodPort(pod: () => Pod, port: number, signal: AbortSignal): ByteStream {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  void servePodPort(pod, port, {
    readable: toServer.readable,
    writable: toClient.writable,
  }, signal).catch(() => {
    toClient.writable.abort().catch(() => {});
  });
  return { readable: toClient.readable, writable: toServer.writable };
}
