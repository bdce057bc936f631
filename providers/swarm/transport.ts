/**
 * HTTP to the Docker Engine API over a unix socket or TCP with TLS client certificates:
 * `fetch` with a Deno HTTP client bound to the socket or the certificates for requests
 * and streams, and a raw connection for the one call that leaves HTTP behind, the
 * hijacked stream of `POST /exec/{id}/start`. Every exchange is counted by operation
 * and status.
 *
 * @module
 */

import { counter, errorMessage } from "../../lib/provider_kit/mod.ts";
import { UnavailableError } from "../../lib/provider.ts";
import { errorReplySchema } from "./api_types.ts";
import type { EngineEndpoint, TlsFiles } from "./config.ts";
import { EngineHttpError } from "./errors.ts";

const requestsTotal = counter({
  name: "vkedge_swarm_requests_total",
  help: "Requests to the Docker Engine API, by operation and HTTP status (error: no answer).",
  labelNames: ["operation", "code"],
});

/** Options of {@linkcode EngineTransport}. */
export interface EngineTransportOptions {
  /** Where the Engine API is. */
  endpoint: EngineEndpoint;
  /** TLS client files, for a tcp endpoint. */
  tls?: TlsFiles;
  /** API version prefixed to every path, such as `1.41`. */
  apiVersion: string;
  /** Timeout of a request that is not a stream. */
  requestTimeoutMs: number;
}

/** One request. */
export interface EngineRequest {
  /** Names the call in metrics and errors, such as `services.create`. */
  operation: string;
  /** HTTP method (default GET). */
  method?: string;
  /** Path below the version prefix, such as `/services/create`. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body. */
  body?: unknown;
  /** A body sent as it is (such as an image tarball). */
  rawBody?: BodyInit;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** A stream: no timeout, the body is the caller's to read. */
  stream?: boolean;
  /** Aborts the request (and a stream's body). */
  signal: AbortSignal;
}

/** A hijacked connection: the raw bytes after the HTTP upgrade. */
export interface HijackedStream {
  /** Bytes from the Engine (the process's output). */
  readable: ReadableStream<Uint8Array>;
  /** Writes bytes to the Engine (the process's input). */
  write(bytes: Uint8Array): Promise<void>;
  /** Half-closes: the process sees the end of its input. */
  closeWrite(): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/**
 * The chunks of `stream` until it ends or `signal` aborts: an abort does not always end a
 * pending read of a fetch body, so each read is raced with it.
 */
export async function* chunksUntil<T>(
  stream: ReadableStream<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const reader = stream.getReader();
  const aborted = new Promise<ReadableStreamReadResult<T>>((resolve) => {
    const done = () => resolve({ done: true, value: undefined });
    if (signal.aborted) done();
    else signal.addEventListener("abort", done, { once: true });
  });
  try {
    while (true) {
      const chunk = await Promise.race([reader.read(), aborted]);
      if (chunk.done) return;
      yield chunk.value;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Query string of `query`, without undefined values. */
export function queryString(query: EngineRequest["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** HTTP to one Engine. */
export class EngineTransport {
  /** The endpoint as configured, for messages. */
  readonly endpoint: string;
  readonly #options: EngineTransportOptions;
  readonly #client: Deno.HttpClient;
  readonly #base: string;

  /** Creates the transport; nothing is sent until the first request. */
  constructor(options: EngineTransportOptions) {
    this.#options = options;
    this.endpoint = options.endpoint.text;
    const { endpoint, tls } = options;
    if (endpoint.kind === "unix") {
      this.#client = Deno.createHttpClient({ proxy: { transport: "unix", path: endpoint.path } });
      this.#base = `http://docker/v${options.apiVersion}`;
    } else {
      this.#client = Deno.createHttpClient({
        ...(tls ? { caCerts: [tls.ca], cert: tls.cert, key: tls.key } : {}),
      });
      const host = endpoint.hostname.includes(":") ? `[${endpoint.hostname}]` : endpoint.hostname;
      this.#base = `https://${host}:${endpoint.port}/v${options.apiVersion}`;
    }
  }

  /**
   * Sends `request` and returns the answer when it is a success; throws `EngineHttpError`
   * with the Engine's message otherwise, and `UnavailableError` when there is no answer.
   */
  async request(request: EngineRequest): Promise<Response> {
    const method = request.method ?? "GET";
    const operation = `${method} ${request.path}`;
    const signal = request.stream
      ? request.signal
      : AbortSignal.any([request.signal, AbortSignal.timeout(this.#options.requestTimeoutMs)]);
    const headers: Record<string, string> = { ...request.headers };
    let body: BodyInit | undefined = request.rawBody;
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.#base}${request.path}${queryString(request.query)}`, {
        method,
        headers,
        body,
        signal,
        client: this.#client,
      });
    } catch (error) {
      requestsTotal.inc({ operation: request.operation, code: "error" });
      if (request.signal.aborted) throw error;
      throw new UnavailableError(
        `Docker Engine at ${this.endpoint}: expected an answer to ${operation}, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
    requestsTotal.inc({ operation: request.operation, code: String(response.status) });
    if (response.ok) return response;
    const text = await response.text().catch(() => "");
    let message = text.trim();
    try {
      message = errorReplySchema.parse(JSON.parse(text)).message;
    } catch {
      // A plain-text answer (a proxy, an old Engine): keep it as it is.
    }
    throw new EngineHttpError(operation, response.status, message || response.statusText);
  }

  /** Sends `request` and returns its JSON body. */
  async json(request: EngineRequest): Promise<unknown> {
    const response = await this.request(request);
    const text = await response.text();
    return text === "" ? undefined : JSON.parse(text);
  }

  /**
   * POSTs `body` to `path` asking for the connection itself (`Upgrade: tcp`), as
   * `POST /exec/{id}/start` needs, and returns the raw stream after the Engine's
   * `101 Switching Protocols` (or `200 OK`, as older Engines answer).
   */
  async hijack(
    operation: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<HijackedStream> {
    const { endpoint, tls } = this.#options;
    let connection: Deno.UnixConn | Deno.TlsConn;
    try {
      connection = endpoint.kind === "unix"
        ? await Deno.connect({ transport: "unix", path: endpoint.path })
        : await Deno.connectTls({
          hostname: endpoint.hostname,
          port: endpoint.port,
          ...(tls ? { caCerts: [tls.ca], cert: tls.cert, key: tls.key } : {}),
        });
    } catch (error) {
      requestsTotal.inc({ operation, code: "error" });
      throw new UnavailableError(
        `Docker Engine at ${this.endpoint}: expected a connection for POST ${path}, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
    const onAbort = () => {
      try {
        connection.close();
      } catch {
        // Closed already.
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const encoder = new TextEncoder();
    const payload = encoder.encode(JSON.stringify(body));
    const head = [
      `POST /v${this.#options.apiVersion}${path} HTTP/1.1`,
      "Host: docker",
      "Content-Type: application/json",
      `Content-Length: ${payload.length}`,
      "Connection: Upgrade",
      "Upgrade: tcp",
      "",
      "",
    ].join("\r\n");
    try {
      await writeAll(connection, encoder.encode(head));
      await writeAll(connection, payload);
      const { status, headers, rest } = await readResponseHead(connection);
      requestsTotal.inc({ operation, code: String(status) });
      if (status !== 101 && status !== 200) {
        const text = await readBody(connection, headers, rest);
        let message = text.trim();
        try {
          message = errorReplySchema.parse(JSON.parse(text)).message;
        } catch {
          // Plain text.
        }
        throw new EngineHttpError(`POST ${path}`, status, message);
      }
      return {
        readable: streamOf(connection, rest),
        write: (bytes) => writeAll(connection, bytes),
        closeWrite: async () => {
          try {
            await connection.closeWrite();
          } catch {
            // The other side closed already.
          }
        },
        close: () => {
          signal.removeEventListener("abort", onAbort);
          onAbort();
        },
      };
    } catch (error) {
      signal.removeEventListener("abort", onAbort);
      onAbort();
      if (error instanceof EngineHttpError || signal.aborted) throw error;
      throw new UnavailableError(
        `Docker Engine at ${this.endpoint}: expected an answer to POST ${path}, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Closes the HTTP client's idle connections. */
  close(): void {
    this.#client.close();
  }
}

async function writeAll(connection: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await connection.write(bytes.subarray(written));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Reads the status line and headers; `rest` holds the bytes read past them. */
async function readResponseHead(
  connection: Deno.Conn,
): Promise<{ status: number; headers: Headers; rest: Uint8Array }> {
  let buffered: Uint8Array = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  while (true) {
    const end = headEnd(buffered);
    if (end >= 0) {
      const lines = new TextDecoder().decode(buffered.subarray(0, end)).split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? "0");
      if (status === 0) throw new Error(`expected an HTTP status line, found "${lines[0]}"`);
      const headers = new Headers();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      return { status, headers, rest: buffered.subarray(end + 4) };
    }
    if (buffered.length > 65536) throw new Error("expected HTTP headers, found over 64 KiB");
    const read = await connection.read(chunk);
    if (read === null) throw new Error("the connection closed before the HTTP headers ended");
    buffered = concat(buffered, chunk.subarray(0, read));
  }
}

/** The body of a small error answer: by Content-Length, else up to the end. */
async function readBody(connection: Deno.Conn, headers: Headers, rest: Uint8Array) {
  const length = Number(headers.get("content-length") ?? "-1");
  let body = rest;
  const chunk = new Uint8Array(4096);
  while (length < 0 || body.length < length) {
    const read = await connection.read(chunk);
    if (read === null) break;
    body = concat(body, chunk.subarray(0, read));
    if (body.length > 65536) break;
  }
  return new TextDecoder().decode(length >= 0 ? body.subarray(0, length) : body);
}

/** The rest of the connection as a stream, starting with `first`. */
function streamOf(connection: Deno.Conn, first: Uint8Array): ReadableStream<Uint8Array> {
  let pending: Uint8Array | undefined = first.length > 0 ? first : undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      if (pending !== undefined) {
        controller.enqueue(pending);
        pending = undefined;
        return;
      }
      const chunk = new Uint8Array(32768);
      let read: number | null;
      try {
        read = await connection.read(chunk);
      } catch {
        read = null; // closed by an abort, or reset by the Engine: the stream ends
      }
      if (read === null) controller.close();
      else controller.enqueue(chunk.slice(0, read));
    },
    cancel(): void {
      try {
        connection.close();
      } catch {
        // Closed already.
      }
    },
  });
}
