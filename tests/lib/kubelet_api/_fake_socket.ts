/**
 * An in-memory `Duplex` standing in for a client socket: it records what the server writes
 * and either closes when ended (a polite peer) or stays half-open (a peer that never closes).
 *
 * @module
 */

import { Duplex } from "node:stream";

/** A fake socket and what was written to it. */
export interface FakeSocket {
  socket: Duplex;
  /** Everything written so far, as text. */
  written(): string;
  /** Resolves when the socket emitted `close`. */
  closed: Promise<void>;
}

/** A fake socket; with `closesOnEnd` it closes as soon as the server ends it. */
export function fakeSocket(options: { closesOnEnd: boolean }): FakeSocket {
  const chunks: Uint8Array[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Uint8Array, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
    final(callback) {
      if (options.closesOnEnd) this.push(null);
      callback();
    },
  });
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    written: () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
    closed,
  };
}
