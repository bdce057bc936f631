/**
 * The `grpc` probe: one call of `grpc.health.v1.Health/Check` (the standard health
 * protocol) over HTTP/2 without TLS on a probe connection, passed when the server answers
 * `SERVING`, with the kubelet's messages otherwise (`service unhealthy (responded with
 * "NOT_SERVING")`, `this server does not implement the grpc health protocol …`). The
 * protobuf messages have one field each and are written by hand.
 *
 * @module
 */

import http2 from "node:http2";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { failed, PASSED, PROBE_USER_AGENT, type ProbeOutcome } from "./outcome.ts";
import { nodeDuplex, type ProbeConnection } from "./connect.ts";

/** The serving states of `grpc.health.v1.HealthCheckResponse`. */
const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;

/** gRPC status codes by number, for messages. */
const GRPC_CODES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** The path of the health check method. */
export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";

/** A gRPC message (flag byte, big-endian length) holding `payload`. */
export function grpcFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + payload.length);
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, 5);
  return frame;
}

/** `HealthCheckRequest { string service = 1; }` encoded (empty service: no field). */
export function healthCheckRequest(service: string): Uint8Array {
  const bytes = new TextEncoder().encode(service);
  if (bytes.length === 0) return new Uint8Array();
  if (bytes.length > 127) throw new RangeError("gRPC health service names are at most 127 bytes");
  return new Uint8Array([0x0a, bytes.length, ...bytes]);
}

/** The `status` of an encoded `HealthCheckResponse` (0, UNKNOWN, when absent). */
export function servingStatusOf(message: Uint8Array): number {
  for (let index = 0; index + 1 < message.length; index++) {
    if (message[index] === 0x08) return message[index + 1];
  }
  return 0;
}

/** `HealthCheckResponse { ServingStatus status = 1; }` encoded. */
export function healthCheckResponse(status: number): Uint8Array {
  return new Uint8Array([0x08, status]);
}

/** The first gRPC message in `data`, or `undefined` when it is incomplete. */
export function firstGrpcMessage(data: Uint8Array): Uint8Array | undefined {
  if (data.length < 5) return undefined;
  const length = new DataView(data.buffer, data.byteOffset).getUint32(1);
  if (data.length < 5 + length) return undefined;
  return data.subarray(5, 5 + length);
}

/**
 * Calls the health check for `service` over `connection` until `signal` (the probe's
 * timeout) aborts, then closes the connection.
 */
export async function grpcProbe(
  connection: ProbeConnection,
  options: { service: string; timeoutSeconds: number },
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const { address } = connection;
  const session = http2.connect(`http://${address}`, {
    // http2 asks for a socket; any duplex serves.
    createConnection: () => nodeDuplex(connection.stream) as Socket,
  });
  const timeout = `${options.timeoutSeconds}s`;
  try {
    return await new Promise<ProbeOutcome>((resolve) => {
      let connected = false;
      const onAbort = () =>
        resolve(failed(
          connected
            ? `timeout: health rpc did not complete within ${timeout}`
            : `timeout: failed to connect service "${address}" within ${timeout}: context deadline exceeded`,
        ));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      session.once("connect", () => connected = true);
      session.once(
        "error",
        (error: Error) => resolve(failed(`error: health rpc probe failed: ${error.message}`)),
      );
      const request = session.request({
        ":method": "POST",
        ":path": HEALTH_CHECK_PATH,
        "content-type": "application/grpc",
        "te": "trailers",
        "user-agent": PROBE_USER_AGENT,
      });
      const chunks: Buffer[] = [];
      let grpcStatus: string | undefined;
      let grpcMessage = "";
      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        const status = headers["grpc-status"];
        if (typeof status === "string") grpcStatus = status;
        const message = headers["grpc-message"];
        if (typeof message === "string") grpcMessage = decodeURIComponent(message);
      };
      request.on("response", readStatus);
      request.on("trailers", readStatus);
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on(
        "error",
        (error: Error) => resolve(failed(`error: health rpc probe failed: ${error.message}`)),
      );
      request.on("end", () => {
        signal.removeEventListener("abort", onAbort);
        const code = Number(grpcStatus ?? "2");
        if (code !== 0) {
          const name = GRPC_CODES[code] ?? `Code(${code})`;
          const rpcError = `rpc error: code = ${name} desc = ${grpcMessage}`;
          return resolve(failed(
            code === 12
              ? `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${rpcError}`
              : `error: health rpc probe failed: ${rpcError}`,
          ));
        }
        const message = firstGrpcMessage(new Uint8Array(Buffer.concat(chunks)));
        const status = message === undefined ? 0 : servingStatusOf(message);
        resolve(
          status === 1 ? PASSED : failed(
            `service unhealthy (responded with "${SERVING_STATUS[status] ?? `status ${status}`}")`,
          ),
        );
      });
      request.end(grpcFrame(healthCheckRequest(options.service)));
    });
  } finally {
    session.destroy();
    connection.close();
  }
}
