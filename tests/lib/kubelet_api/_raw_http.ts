/**
 * A raw HTTP/1.1 client over TLS for upgrade requests, which `fetch` cannot make: it writes
 * the request head by hand, parses the response head, and then reads the socket as bytes
 * (for a `101 Switching Protocols`) or to its end (for a refusal).
 *
 * @module
 */

import { type Caller, pki } from "./_fixture.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  reason: string;
  headers: Headers;
}

/** An open TLS connection to the server, read through an internal buffer. */
export class RawConnection {
  readonly #conn: Deno.TlsConn;
  #buffer = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.TlsConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port` as `who` (a client certificate of the fixture, or none). */
  static async open(port: number, who: Caller = "alice"): Promise<RawConnection> {
    const certs = await pki();
    const identity = who === "none" ? undefined : certs[who];
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [certs.servingCa.certPem],
      ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }),
    });
    return new RawConnection(conn);
  }

  /** Writes text or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(16 * 1024);
    let count: number | null;
    try {
      count = await this.#conn.read(chunk);
    } catch {
      count = null;
    }
    if (count === null) {
      this.#eof = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.length + count);
    joined.set(this.#buffer);
    joined.set(chunk.subarray(0, count), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  #take(count: number): Uint8Array {
    const taken = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.slice(count);
    return taken;
  }

  /** Reads and parses the response head. */
  async readHead(): Promise<ResponseHead> {
    while (true) {
      const end = decoder.decode(this.#buffer).indexOf("\r\n\r\n");
      if (end >= 0) {
        const text = decoder.decode(this.#take(end + 4)).slice(0, -4);
        const [statusLine, ...lines] = text.split("\r\n");
        const match = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(statusLine);
        if (!match) throw new Error(`expected an HTTP/1.1 status line, found ${statusLine}`);
        const headers = new Headers();
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
        }
        return { status: Number(match[1]), reason: match[2], headers };
      }
      if (!await this.#fill()) {
        throw new Error(`connection ended before a response head: ${decoder.decode(this.#buffer)}`);
      }
    }
  }

  /** Reads exactly `count` bytes. */
  async readBytes(count: number): Promise<Uint8Array> {
    while (this.#buffer.length < count) {
      if (!await this.#fill()) throw new Error(`connection ended before ${count} bytes`);
    }
    return this.#take(count);
  }

  /** The bytes buffered or next read, or null at the end of the connection. */
  async readAvailable(): Promise<Uint8Array | null> {
    if (this.#buffer.length === 0 && !await this.#fill()) return null;
    return this.#take(this.#buffer.length);
  }

  /** Reads everything up to the end of the connection. */
  async readToEnd(): Promise<string> {
    while (await this.#fill()) { /* until EOF */ }
    return decoder.decode(this.#take(this.#buffer.length));
  }

  /** Whether the server ended the connection (reads until it does, or `timeoutMs` passes). */
  async ended(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const rest = this.readToEnd().then(() => "ended" as const);
    const outcome = await Promise.race([rest, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.close();
      await rest;
    }
    return outcome === "ended";
  }

  /** Closes the connection (idempotent). */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** What a refused or answered upgrade request got back. */
export interface UpgradeAnswer extends ResponseHead {
  body: string;
  /** Whether the server closed the connection after the response. */
  closed: boolean;
}

/** Options of {@linkcode sendUpgrade}. */
export interface UpgradeRequestOptions {
  who?: Caller;
  method?: string;
  token?: string;
  /** Extra header lines; defaults to a SPDY/3.1 upgrade offering v4.channel.k8s.io. */
  headers?: Array<[string, string]>;
}

/** Writes an upgrade request for `path` on `connection`. */
export async function writeUpgradeRequest(
  connection: RawConnection,
  path: string,
  options: UpgradeRequestOptions = {},
): Promise<void> {
  const headers: Array<[string, string]> = [
    ["Host", "127.0.0.1"],
    ["Connection", "Upgrade"],
    ...(options.headers ?? [
      ["Upgrade", "SPDY/3.1"],
      ["X-Stream-Protocol-Version", "v4.channel.k8s.io"],
      ["X-Stream-Protocol-Version", "channel.k8s.io"],
    ] as Array<[string, string]>),
    ...(options.token === undefined
      ? []
      : [["Authorization", `Bearer ${options.token}`]] as Array<[string, string]>),
    ["Content-Length", "0"],
  ];
  const lines = headers.map(([name, value]) => `${name}: ${value}\r\n`).join("");
  await connection.send(`${options.method ?? "POST"} ${path} HTTP/1.1\r\n${lines}\r\n`);
}

/**
 * Sends an upgrade request that the server is expected to refuse or answer: returns the
 * response (its body read by `content-length`, or to the end) and whether the server then
 * closed the connection.
 */
export async function sendUpgrade(
  port: number,
  path: string,
  options: UpgradeRequestOptions = {},
): Promise<UpgradeAnswer> {
  const connection = await RawConnection.open(port, options.who);
  try {
    await writeUpgradeRequest(connection, path, options);
    const head = await connection.readHead();
    const length = head.headers.get("content-length");
    if (length === null) {
      const body = await connection.readToEnd();
      return { ...head, body, closed: true };
    }
    const body = decoder.decode(await connection.readBytes(Number(length)));
    return { ...head, body, closed: await connection.ended(3000) };
  } finally {
    connection.close();
  }
}
