/**
 * A WebSocket client of the Kubernetes channel protocols for the tests (`ws`'s client, with
 * the fixture's client certificate): it records each message as channel and payload.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { type Caller, pki } from "./_fixture.ts";

/** One message as the server sent it. */
export interface ChannelMessage {
  channel: number;
  data: Uint8Array;
}

/** An open channel connection. */
export interface ChannelClient {
  ws: WebSocket;
  /** The subprotocol the server chose. */
  protocol: string;
  messages: ChannelMessage[];
  /** Resolves with the close code once the connection closed. */
  closed: Promise<number>;
  /** Sends `data` on `channel` (base64 text for the base64 protocols). */
  send(channel: number, data: Uint8Array | string): void;
  /** The bytes received on `channel`, concatenated. */
  received(channel: number): Uint8Array;
}

/** Opens a WebSocket to `path` offering `protocols`; rejects with the refusal's status. */
export async function connectChannels(
  port: number,
  path: string,
  options: { who?: Caller; protocols: string[] },
): Promise<ChannelClient> {
  const certs = await pki();
  const identity = options.who === "none" ? undefined : certs[options.who ?? "alice"];
  const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, options.protocols, {
    ca: certs.servingCa.certPem,
    ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }),
  });
  const messages: ChannelMessage[] = [];
  const base64 = () => ws.protocol.includes("base64.");
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary && base64()) {
      const text = data.toString("latin1");
      messages.push({
        channel: text.charCodeAt(0) - 48,
        data: new Uint8Array(Buffer.from(text.slice(1), "base64")),
      });
    } else {
      messages.push({ channel: data[0], data: new Uint8Array(data.subarray(1)) });
    }
  });
  const closed = new Promise<number>((resolve) =>
    ws.once("close", (code: number) => resolve(code))
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once(
      "unexpected-response",
      (_request: unknown, response: { statusCode?: number }) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
    ws.once("error", reject);
  });
  return {
    ws,
    protocol: ws.protocol,
    messages,
    closed,
    send(channel, data) {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      if (base64()) {
        ws.send(String.fromCharCode(48 + channel) + Buffer.from(bytes).toString("base64"));
      } else {
        ws.send(new Uint8Array([channel, ...bytes]));
      }
    },
    received(channel) {
      return new Uint8Array(
        messages.filter((message) => message.channel === channel).flatMap((message) => [
          ...message.data,
        ]),
      );
    },
  };
}
