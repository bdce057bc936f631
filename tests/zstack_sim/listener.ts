/**
 * The simulator's public TCP listener. It relays every connection to the HTTP server on a
 * private port, which lets faults act below HTTP: a connection can be closed without an
 * answer, and the listener can stop (connection refused) and come back on the same port.
 *
 * @module
 */

interface Relay {
  client: Deno.TcpConn;
  backend: Deno.TcpConn;
  done: Promise<void>;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const read = await from.read(buffer);
      if (read === null) break;
      let written = 0;
      while (written < read) written += await to.write(buffer.subarray(written, read));
    }
    await to.closeWrite();
  } catch {
    // One side went away; the relay is torn down below.
  }
}

/** Accepts connections on the public address and relays them to `backendPort`. */
export class RelayListener {
  readonly #hostname: string;
  readonly #backendPort: () => number;
  #port: number;
  #listener?: Deno.TcpListener;
  #accepting?: Promise<void>;
  readonly #relays = new Map<number, Relay>();
  readonly #tasks = new Set<Promise<void>>();

  /** Prepares a listener on `hostname:port` (0 picks a free port) relaying to `backendPort()`. */
  constructor(hostname: string, port: number, backendPort: () => number) {
    this.#hostname = hostname;
    this.#port = port;
    this.#backendPort = backendPort;
  }

  /** The public port (known once started). */
  get port(): number {
    return this.#port;
  }

  /** Whether the listener is accepting connections. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Starts listening (again, on the same port after a stop). */
  start(): void {
    if (this.#listener) return;
    const listener = Deno.listen({ hostname: this.#hostname, port: this.#port });
    this.#port = listener.addr.port;
    this.#listener = listener;
    this.#accepting = this.#accept(listener);
  }

  /** Stops listening and closes every open connection, as a dead process would. */
  async stop(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    const relays = [...this.#relays.values()];
    for (const relay of relays) {
      closeQuietly(relay.client);
      closeQuietly(relay.backend);
    }
    await Promise.all(relays.map((relay) => relay.done));
    await Promise.all([...this.#tasks]);
  }

  /**
   * Closes, without an answer, the client connection whose relay reaches the HTTP server
   * from `backendClientPort` (the remote port the server sees). Returns whether one was found.
   */
  drop(backendClientPort: number): boolean {
    const relay = this.#relays.get(backendClientPort);
    if (!relay) return false;
    closeQuietly(relay.client);
    closeQuietly(relay.backend);
    return true;
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    while (true) {
      let client: Deno.TcpConn;
      try {
        client = await listener.accept();
      } catch {
        return;
      }
      const task = this.#relay(client);
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  async #relay(client: Deno.TcpConn): Promise<void> {
    let backend: Deno.TcpConn;
    try {
      backend = await Deno.connect({ hostname: "127.0.0.1", port: this.#backendPort() });
    } catch {
      closeQuietly(client);
      return;
    }
    if (!this.#listener) {
      closeQuietly(client);
      closeQuietly(backend);
      return;
    }
    const key = backend.localAddr.port;
    const done = Promise.all([pump(client, backend), pump(backend, client)]).then(() => {
      closeQuietly(client);
      closeQuietly(backend);
      this.#relays.delete(key);
    });
    this.#relays.set(key, { client, backend, done });
    await done;
  }
}
