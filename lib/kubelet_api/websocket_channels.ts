/**
 * WebSocket for the streaming endpoints: accepting the upgrade on the raw socket with `ws`
 * (Deno's own `upgradeWebSocket` cannot take a `node:https` socket, and `ws` is the
 * WebSocket server of the Node ecosystem), and the Kubernetes channel protocols on top of
 * it: each message starts with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error,
 * 4 resize; port-forward uses 2i and 2i+1), as an ASCII digit followed by base64 in the
 * `base64.` variants; in `v5.channel.k8s.io` the client closes a channel with `[255, n]`.
 * The idle timeout counts data messages, not pings.
 *
 * @module
 */

import { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { getLogger } from "@logtape/logtape";
// @ts-types="@types/ws"
import { type WebSocket, WebSocketServer } from "ws";
import { HttpError } from "./http_errors.ts";
import { offeredProtocols } from "./remote_command.ts";
import { formatDuration } from "../duration.ts";
import type { UpgradeContext } from "./routes.ts";

const logger = getLogger(["vkedge", "kubelet_api", "streaming"]);

/** The v5 message that closes a channel: `[streamClose, channel]`. */
const streamClose = 255;

/** Bytes a channel buffers for its reader before the connection stops being read. */
const channelHighWaterMark = 256 * 1024;

let server: WebSocketServer | undefined;

function webSocketServer(): WebSocketServer {
  server ??= new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  return server;
}

/** Whether the request asks to switch to WebSocket. */
export function isWebSocketUpgrade(request: Request): boolean {
  return (request.headers.get("upgrade") ?? "").toLowerCase().split(",").map((each) => each.trim())
    .includes("websocket");
}

/**
 * The first subprotocol the client offers that `supported` has, `""` when it offers none,
 * or a 400 naming both lists.
 */
export function negotiateWebSocketProtocol(
  request: Request,
  supported: readonly string[],
): string {
  const offered = offeredProtocols(request.headers.get("sec-websocket-protocol"));
  if (offered.length === 0) return "";
  const chosen = offered.find((protocol) => supported.includes(protocol));
  if (chosen === undefined) {
    throw new HttpError(
      400,
      `requested protocol(s) are not supported: [${offered.join(" ")}]; supports [${
        supported.join(" ")
      }]`,
    );
  }
  return chosen;
}

/**
 * Completes the WebSocket handshake on the upgrade's socket, answering with `protocol`
 * (none when empty). `ws` validates the key and version and writes the 101 itself; the
 * subprotocol is negotiated here because `ws` rejects names such as
 * `SPDY/3.1+portforward.k8s.io` that are not HTTP tokens.
 */
export function acceptWebSocket(context: UpgradeContext, protocol: string): Promise<WebSocket> {
  if (context.request.method !== "GET") {
    throw new HttpError(400, `a WebSocket upgrade must be a GET, found ${context.request.method}`);
  }
  const request = new IncomingMessage(context.socket as Socket);
  request.method = "GET";
  request.url = context.url.pathname + context.url.search;
  const headers: Record<string, string> = {};
  for (const name of ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version"]) {
    const value = context.request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  request.headers = headers;
  const wss = webSocketServer();
  const addProtocol = (lines: string[], handled: IncomingMessage) => {
    if (handled === request && protocol !== "") lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  };
  wss.on("headers", addProtocol);
  context.takeOver();
  return new Promise<WebSocket>((resolve, reject) => {
    const refused = () => reject(new Error("WebSocket handshake refused (bad key or version)"));
    context.socket.once("close", refused);
    try {
      wss.handleUpgrade(request, context.socket, Buffer.from(context.head), (ws) => {
        context.socket.off("close", refused);
        resolve(ws);
      });
    } finally {
      wss.off("headers", addProtocol);
    }
  });
}

/** Options of {@linkcode ChannelConnection}. */
export interface ChannelConnectionOptions {
  /** Text messages with base64 payloads (the `base64.` protocols) instead of binary ones. */
  base64: boolean;
  /** Close after this long without data messages; 0: never. */
  idleTimeoutMs: number;
  /** Channels whose messages are each one line (resize): a newline is added after each. */
  lineChannels?: number[];
  /** Name for logs. */
  name: string;
}

interface IncomingChannel {
  readable: ReadableStream<Uint8Array>;
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

/** The channels of one Kubernetes WebSocket connection. */
export class ChannelConnection {
  readonly #ws: WebSocket;
  readonly #options: ChannelConnectionOptions;
  readonly #incoming = new Map<number, IncomingChannel>();
  readonly #full = new Set<number>();
  readonly #ended = new AbortController();
  readonly #closed: Promise<void>;
  #lastActivity = Date.now();
  #idledOut = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts reading `ws`. */
  constructor(ws: WebSocket, options: ChannelConnectionOptions) {
    this.#ws = ws;
    this.#options = options;
    ws.binaryType = "nodebuffer";
    this.#closed = new Promise<void>((resolve) => {
      ws.once("close", () => {
        this.#end("connection closed");
        resolve();
      });
    });
    ws.on("error", (error: Error) => {
      logger.debug("{name}: websocket error: {error}", {
        name: options.name,
        error: error.message,
      });
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => this.#receive(data, isBinary));
    this.#armIdleTimer();
  }

  /** Aborted when the connection closes (or idles out). */
  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  /** Whether the connection idled out (the signal's reason says so). */
  get idledOut(): boolean {
    return this.#idledOut;
  }

  /** What the client sends on `channel`; ends when it closes the channel (v5) or the connection. */
  readable(channel: number): ReadableStream<Uint8Array> {
    return this.#channel(channel).readable;
  }

  /** A writable that sends each chunk as one message on `channel`; closing it does nothing. */
  writable(channel: number): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({ write: (chunk) => this.send(channel, chunk) });
  }

  /** Sends `data` as one message on `channel`; resolves once the socket took it. */
  send(channel: number, data: Uint8Array): Promise<void> {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      return Promise.reject(new Error("websocket closed: expected an open connection to write to"));
    }
    if (data.length > 0) this.#lastActivity = Date.now();
    let message: Uint8Array | string;
    if (this.#options.base64) {
      message = String.fromCharCode(48 + channel) + Buffer.from(data).toString("base64");
    } else {
      message = new Uint8Array(data.length + 1);
      message[0] = channel;
      message.set(data, 1);
    }
    return new Promise<void>((resolve, reject) => {
      this.#ws.send(message, { binary: !this.#options.base64 }, (error?: Error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  /** Closes the connection (normal closure unless `code` says otherwise) and waits for it. */
  async close(code = 1000, reason = ""): Promise<void> {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(code, reason);
    const timer = setTimeout(() => this.#ws.terminate(), 5_000);
    await this.#closed;
    clearTimeout(timer);
    clearTimeout(this.#idleTimer);
  }

  #channel(channel: number): IncomingChannel {
    let entry = this.#incoming.get(channel);
    if (entry === undefined) {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const readable = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        pull: () => this.#drained(channel),
        cancel: () => {
          entry!.closed = true;
          this.#drained(channel);
        },
      }, new ByteLengthQueuingStrategy({ highWaterMark: channelHighWaterMark }));
      entry = { readable, controller, closed: false };
      this.#incoming.set(channel, entry);
      if (this.#ended.signal.aborted) this.#closeChannel(entry);
    }
    return entry;
  }

  #receive(data: Buffer, isBinary: boolean): void {
    let channel: number;
    let payload: Uint8Array;
    if (this.#options.base64 && !isBinary) {
      const text = data.toString("latin1");
      channel = text.charCodeAt(0) - 48;
      payload = Buffer.from(text.slice(1), "base64");
    } else {
      if (data.length === 0) return;
      channel = data[0];
      payload = data.subarray(1);
    }
    if (channel === streamClose && payload.length === 1) {
      const entry = this.#channel(payload[0]);
      this.#closeChannel(entry);
      return;
    }
    if (!Number.isInteger(channel) || channel < 0 || channel > 254) return;
    if (payload.length === 0) return;
    this.#lastActivity = Date.now();
    const entry = this.#channel(channel);
    if (entry.closed) return;
    if ((this.#options.lineChannels ?? []).includes(channel)) {
      payload = Buffer.concat([payload, Buffer.from("\n")]);
    }
    entry.controller.enqueue(payload);
    if ((entry.controller.desiredSize ?? 1) <= 0) {
      this.#full.add(channel);
      this.#ws.pause();
    }
  }

  #drained(channel: number): void {
    if (!this.#full.delete(channel)) return;
    if (this.#full.size === 0 && !this.#ended.signal.aborted) this.#ws.resume();
  }

  #closeChannel(entry: IncomingChannel): void {
    if (entry.closed) return;
    entry.closed = true;
    entry.controller.close();
  }

  #end(reason: string): void {
    if (!this.#idledOut) clearTimeout(this.#idleTimer);
    if (!this.#ended.signal.aborted) this.#ended.abort(new Error(reason));
    for (const entry of this.#incoming.values()) this.#closeChannel(entry);
  }

  #armIdleTimer(): void {
    const idleMs = this.#options.idleTimeoutMs;
    if (idleMs <= 0) return;
    const check = () => {
      const quietMs = Date.now() - this.#lastActivity;
      if (quietMs < idleMs) {
        this.#idleTimer = setTimeout(check, idleMs - quietMs);
        return;
      }
      logger.info("{name}: idle for {seconds} s, closing", {
        name: this.#options.name,
        seconds: Math.round(quietMs / 1000),
      });
      this.#idledOut = true;
      // Handlers see the signal and may still report (a status) before the close.
      this.#end(`stream idle timeout: no data for ${formatDuration(idleMs)}`);
      this.#idleTimer = setTimeout(() => void this.close(1000, "idle timeout"), 2_000);
    };
    this.#idleTimer = setTimeout(check, idleMs);
  }
}

/**
 * The binary messages of a WebSocket as one byte stream (message boundaries mean nothing),
 * for the SPDY tunnel of port-forward.
 */
export function webSocketByteStream(
  ws: WebSocket,
): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
  ws.binaryType = "nodebuffer";
  let paused = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.on("message", (data: Buffer) => {
        controller.enqueue(data);
        if ((controller.desiredSize ?? 1) <= 0 && !paused) {
          paused = true;
          ws.pause();
        }
      });
      ws.once("close", () => {
        try {
          controller.close();
        } catch {
          // Already cancelled.
        }
      });
    },
    pull() {
      if (paused) {
        paused = false;
        ws.resume();
      }
    },
    cancel() {
      ws.terminate();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: channelHighWaterMark }));
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error("websocket closed"));
        ws.send(chunk, { binary: true }, (error?: Error) => error ? reject(error) : resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve();
        ws.once("close", () => resolve());
        ws.close(1000);
      }),
    abort: () => ws.terminate(),
  });
  return { readable, writable };
}
