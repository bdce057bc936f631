/**
 * Web streams over the raw socket of an upgraded request: the bytes the client sent after
 * the request head come first, the socket is paused while the reader falls behind, and
 * writes wait for `drain`. Closing the writable ends our side of the TCP connection
 * (half-close); cancelling the readable destroys the socket.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ByteStream } from "../provider.ts";

/** Bytes the readable buffers before the socket is paused. */
const highWaterMark = 256 * 1024;

/** `socket` (with `head`, the bytes read with the request head) as a {@linkcode ByteStream}. */
export function socketByteStream(socket: Duplex, head: Uint8Array): ByteStream {
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.length > 0) controller.enqueue(head);
      const finish = () => {
        if (ended) return;
        ended = true;
        controller.close();
      };
      socket.on("data", (chunk: Uint8Array) => {
        if (ended) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) socket.pause();
      });
      socket.once("end", finish);
      socket.once("close", finish);
    },
    pull() {
      if (!ended) socket.resume();
    },
    cancel() {
      ended = true;
      socket.destroy();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark }));

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        if (socket.destroyed || socket.writableEnded) {
          reject(new Error("connection closed: expected an open socket to write to"));
          return;
        }
        if (socket.write(chunk)) return resolve();
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          if (socket.destroyed) reject(new Error("connection closed while writing"));
          else resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableFinished) return resolve();
        socket.end(() => resolve());
        socket.once("close", () => resolve());
      });
    },
    abort() {
      socket.destroy();
    },
  });
  return { readable, writable };
}
