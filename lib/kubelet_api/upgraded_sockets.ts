/**
 * The sockets of upgrade requests, which `node:https` no longer tracks once the `'upgrade'`
 * event hands them over (and whose server `close()` waits for them): each gets an abort
 * signal for its handler, and `closeAll` ends them all when the kubelet API stops.
 *
 * @module
 */

import type { Duplex } from "node:stream";

/** The open upgraded sockets of one server. */
export class UpgradedSockets {
  readonly #open = new Map<Duplex, AbortController>();

  /** Number of sockets still open. */
  get size(): number {
    return this.#open.size;
  }

  /** Starts tracking `socket`; the signal aborts when it closes or `closeAll` runs. */
  track(socket: Duplex): AbortSignal {
    const controller = new AbortController();
    this.#open.set(socket, controller);
    socket.once("close", () => {
      controller.abort(new Error("connection closed"));
      this.#open.delete(socket);
    });
    return controller.signal;
  }

  /**
   * Aborts every handler and ends every socket; sockets whose peer has not closed within
   * `graceMs` are destroyed. Resolves when all are closed.
   */
  async closeAll(graceMs: number): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [socket, controller] of this.#open) {
      controller.abort(new Error("kubelet API closing"));
      closing.push(
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          const timer = setTimeout(() => socket.destroy(), graceMs);
          socket.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          socket.end();
        }),
      );
    }
    await Promise.all(closing);
  }
}
