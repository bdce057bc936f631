/**
 * exec, attach and port-forward over WebSocket, as non-kubectl clients (JavaScript and
 * Python clients, web consoles) send them through the API server unchanged:
 * `v4.channel.k8s.io`, `v4.base64.channel.k8s.io`, `channel.k8s.io`,
 * `base64.channel.k8s.io` (or none, binary v1); and, when the node declares
 * `ExtendWebSocketsToKubelet`, kubectl's own `v5.channel.k8s.io` exec/attach and its
 * `SPDY/3.1+portforward.k8s.io` tunnel, which carries a SPDY port-forward session.
 *
 * @module
 */

export { isWebSocketUpgrade } from "./websocket_channels.ts";
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import type { ExecStreams } from "../provider.ts";
import { HttpError } from "./http_errors.ts";
import {
  type RemoteCommandOptions,
  RemoteCommandProtocol,
  statusBytes,
  terminalSizes,
} from "./remote_command.ts";
import type { UpgradeContext } from "./routes.ts";
import {
  type PortForwardServeOptions,
  servePortForwardSession,
  streamPort,
} from "./spdy_port_forward.ts";
import type { RemoteCommandRunner, StreamTimeouts } from "./spdy_remote_command.ts";
import {
  acceptWebSocket,
  ChannelConnection,
  negotiateWebSocketProtocol,
  webSocketByteStream,
} from "./websocket_channels.ts";

const logger = getLogger(["vkedge", "kubelet_api", "streaming"]);

const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** kubectl's port-forward tunnel: SPDY frames inside binary WebSocket messages. */
export const portForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io";

/** The remote-command subprotocols served, v5 only when WebSockets are extended. */
export function webSocketRemoteCommandProtocols(extendWebSockets: boolean): string[] {
  return [
    ...(extendWebSockets ? [RemoteCommandProtocol.v5] : []),
    RemoteCommandProtocol.v4,
    "v4.base64.channel.k8s.io",
    RemoteCommandProtocol.v1,
    "base64.channel.k8s.io",
  ];
}

/** The port-forward subprotocols served, the tunnel only when WebSockets are extended. */
export function webSocketPortForwardProtocols(extendWebSockets: boolean): string[] {
  return [
    ...(extendWebSockets ? [portForwardTunnelProtocol] : []),
    RemoteCommandProtocol.v4,
    "v4.base64.channel.k8s.io",
  ];
}

function isBase64(protocol: string): boolean {
  return protocol.includes("base64.");
}

/** Serves one exec or attach request over WebSocket; resolves when the connection closed. */
export async function serveWebSocketRemoteCommand(
  context: UpgradeContext,
  options: {
    query: RemoteCommandOptions;
    run: RemoteCommandRunner;
    timeouts: StreamTimeouts;
    extendWebSockets: boolean;
    name: string;
  },
): Promise<void> {
  const { query, name } = options;
  const protocol = negotiateWebSocketProtocol(
    context.request,
    webSocketRemoteCommandProtocols(options.extendWebSockets),
  );
  const ws = await acceptWebSocket(context, protocol);
  logger.debug("{name}: WebSocket, protocol {protocol}", {
    name,
    protocol: protocol || "(none: v1)",
  });
  const connection = new ChannelConnection(ws, {
    base64: isBase64(protocol),
    idleTimeoutMs: options.timeouts.idleTimeoutMs,
    lineChannels: [Channel.resize],
    name,
  });
  // Tell the client the connection is ready: an empty message on the lowest writable channel.
  const ready = query.stdout ? Channel.stdout : query.stderr ? Channel.stderr : Channel.error;
  await connection.send(ready, new Uint8Array(0)).catch(() => {});
  const streams: ExecStreams = {
    tty: query.tty,
    ...(query.stdin ? { stdin: connection.readable(Channel.stdin) } : {}),
    ...(query.stdout ? { stdout: connection.writable(Channel.stdout) } : {}),
    ...(query.stderr ? { stderr: connection.writable(Channel.stderr) } : {}),
    ...(query.tty
      ? {
        resize: terminalSizes(connection.readable(Channel.resize), (message) =>
          logger.debug("{name}: {message}", { name, message })),
      }
      : {}),
  };
  const signal = AbortSignal.any([connection.signal, context.signal]);
  let outcome = await options.run(streams, signal);
  if (connection.idledOut) outcome = { kind: "failed", error: connection.signal.reason };
  if (outcome.kind === "failed") {
    logger.info("{name} failed: {error}", { name, error: errorMessage(outcome.error) });
  }
  const status = statusBytes(outcome, protocol);
  if (status.length > 0) await connection.send(Channel.error, status).catch(() => {});
  await connection.close();
}

function requestedPorts(url: URL): number[] {
  const values = url.searchParams.getAll("port").flatMap((value) => value.split(","));
  if (values.length === 0) {
    throw new HttpError(400, 'query parameter "port" is required (such as ?port=8080)');
  }
  return values.map((value) => {
    try {
      return streamPort(value.trim());
    } catch (error) {
      throw new HttpError(400, `query parameter "port": ${errorMessage(error)}`);
    }
  });
}

function portBytes(port: number): Uint8Array {
  return new Uint8Array([port & 0xff, port >> 8]);
}

/** Serves one port-forward request over WebSocket; resolves when the connection closed. */
export async function serveWebSocketPortForward(
  context: UpgradeContext,
  options: Omit<PortForwardServeOptions, "timeouts"> & {
    timeouts: StreamTimeouts;
    extendWebSockets: boolean;
  },
): Promise<void> {
  const protocol = negotiateWebSocketProtocol(
    context.request,
    webSocketPortForwardProtocols(options.extendWebSockets),
  );
  if (protocol === portForwardTunnelProtocol) {
    const ws = await acceptWebSocket(context, protocol);
    logger.debug("{name}: WebSocket tunnel of a SPDY session", { name: options.name });
    await servePortForwardSession(webSocketByteStream(ws), options, context.signal);
    return;
  }
  const ports = requestedPorts(context.url);
  const ws = await acceptWebSocket(context, protocol);
  logger.debug("{name}: WebSocket, protocol {protocol}, ports {ports}", {
    name: options.name,
    protocol: protocol || "(none)",
    ports: ports.join(","),
  });
  const connection = new ChannelConnection(ws, {
    base64: isBase64(protocol),
    idleTimeoutMs: options.timeouts.idleTimeoutMs,
    name: options.name,
  });
  const signal = AbortSignal.any([connection.signal, context.signal]);
  await Promise.all(ports.map(async (port, index) => {
    const data = 2 * index;
    const error = data + 1;
    // Each channel starts with the port it carries, as a little-endian uint16.
    await connection.send(data, portBytes(port)).catch(() => {});
    await connection.send(error, portBytes(port)).catch(() => {});
    try {
      await options.forward(options.ref, {
        port,
        connection: { readable: connection.readable(data), writable: connection.writable(data) },
      }, signal);
    } catch (failure) {
      const message =
        `error forwarding port ${port} to pod ${options.ref.namespace}/${options.ref.pod}: ${
          errorMessage(failure)
        }`;
      logger.info("{name}: {message}", { name: options.name, message });
      await connection.send(error, new TextEncoder().encode(message)).catch(() => {});
    }
  }));
  await connection.close();
}
