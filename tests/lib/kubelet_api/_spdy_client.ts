/**
 * A SPDY/3.1 client for the tests, doing what client-go does on the kubelet leg: an upgrade
 * request, then SYN_STREAMs with odd IDs and `streamtype` headers (compressed with the SPDY
 * dictionary, one context for the session), DATA with FIN, PINGs. It records what the
 * server sends back per stream.
 *
 * @module
 */

import {
  decodeGoAway,
  decodePing,
  decodeRstStream,
  decodeStreamHeaders,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeSynStream,
  flagFin,
  FrameReader,
  FrameType,
  GoAwayStatus,
  type HeaderPairs,
} from "../../../lib/kubelet_api/spdy/frames.ts";
import {
  HeaderCompressor,
  HeaderDecompressor,
} from "../../../lib/kubelet_api/spdy/header_compression.ts";
import type { Caller } from "./_fixture.ts";
import { RawConnection, type ResponseHead, writeUpgradeRequest } from "./_raw_http.ts";

/** What the server sent on one stream. */
export class TestStream {
  readonly id: number;
  readonly #client: SpdyTestClient;
  readonly chunks: Uint8Array[] = [];
  replied = false;
  fin = false;
  rstStatus: number | undefined;
  #waiters: (() => void)[] = [];

  constructor(client: SpdyTestClient, id: number) {
    this.#client = client;
    this.id = id;
  }

  /** Sends data on the stream. */
  write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    return this.#client.send(encodeData(this.id, bytes));
  }

  /** Half-closes the stream. */
  end(): Promise<void> {
    return this.#client.send(encodeData(this.id, new Uint8Array(0), flagFin));
  }

  /** Everything received so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** Everything received so far, as text. */
  text(): string {
    return new TextDecoder().decode(this.bytes());
  }

  /** Resolves when `condition` holds (checked after every frame), or rejects after `timeoutMs`. */
  async until(condition: (stream: TestStream) => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this)) {
      if (Date.now() > deadline || this.#client.ended) {
        throw new Error(
          `stream ${this.id}: condition not met (replied=${this.replied} fin=${this.fin} rst=${this.rstStatus} bytes=${this.bytes().length} ended=${this.#client.ended})`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Resolves once the server closed its side (FIN or RST). */
  closed(timeoutMs?: number): Promise<void> {
    return this.until((stream) => stream.fin || stream.rstStatus !== undefined, timeoutMs);
  }

  notify(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** A SPDY client session on an upgraded connection. */
export class SpdyTestClient {
  readonly head: ResponseHead;
  readonly streams = new Map<number, TestStream>();
  readonly pings: number[] = [];
  goAway: { lastGoodStreamId: number; status: number } | undefined;
  ended = false;
  readonly #connection: RawConnection;
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #frames = new FrameReader();
  #nextId = 1;
  readonly reading: Promise<void>;

  private constructor(connection: RawConnection, head: ResponseHead) {
    this.#connection = connection;
    this.head = head;
    this.reading = this.#read();
  }

  /**
   * Sends a SPDY upgrade for `path` offering `protocols`; returns the client after a 101, or
   * throws with the status and body of a refusal.
   */
  static async connect(
    port: number,
    path: string,
    options: { who?: Caller; protocols?: string[]; headers?: Array<[string, string]> } = {},
  ): Promise<SpdyTestClient> {
    const connection = await RawConnection.open(port, options.who);
    await writeUpgradeRequest(connection, path, {
      headers: options.headers ?? [
        ["Upgrade", "SPDY/3.1"],
        ...(options.protocols ?? ["v4.channel.k8s.io"]).map((protocol) =>
          ["X-Stream-Protocol-Version", protocol] as [string, string]
        ),
      ],
    });
    const head = await connection.readHead();
    if (head.status !== 101) {
      const rest = await connection.readToEnd();
      connection.close();
      throw new Error(`upgrade refused: ${head.status} ${rest}`);
    }
    return new SpdyTestClient(connection, head);
  }

  /** Opens a stream with `headers` (such as `{ streamtype: "error" }`). */
  async open(headers: HeaderPairs, options: { fin?: boolean; id?: number } = {}): Promise<
    TestStream
  > {
    const id = options.id ?? this.#nextId;
    this.#nextId = Math.max(this.#nextId, id) + 2;
    const stream = new TestStream(this, id);
    this.streams.set(id, stream);
    await this.send(
      encodeSynStream(id, this.#compressor.compress(headers), options.fin ? flagFin : 0),
    );
    return stream;
  }

  /** Sends raw bytes (a frame). */
  send(frame: Uint8Array): Promise<void> {
    return this.#connection.send(frame);
  }

  /** Sends a PING. */
  ping(id: number): Promise<void> {
    return this.send(encodePing(id));
  }

  /** Sends GOAWAY and closes the connection. */
  async close(): Promise<void> {
    await this.send(encodeGoAway(0, GoAwayStatus.ok)).catch(() => {});
    this.#connection.close();
    await this.reading;
  }

  /** Resolves when the server ended the connection, or rejects after `timeoutMs`. */
  async waitEnded(timeoutMs = 5_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.reading,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("server did not end the session")), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async #read(): Promise<void> {
    try {
      while (true) {
        const bytes = await this.#connection.readAvailable();
        if (bytes === null) break;
        this.#frames.push(bytes);
        for (let frame = this.#frames.next(); frame; frame = this.#frames.next()) {
          if (frame.kind === "data") {
            const stream = this.streams.get(frame.streamId);
            if (stream === undefined) continue;
            if (frame.data.length > 0) stream.chunks.push(frame.data.slice());
            if (frame.flags & flagFin) stream.fin = true;
            stream.notify();
            continue;
          }
          switch (frame.type) {
            case FrameType.synReply: {
              const { streamId, headerBlock } = decodeStreamHeaders(frame.payload);
              this.#decompressor.decompress(headerBlock);
              const stream = this.streams.get(streamId);
              if (stream) {
                stream.replied = true;
                if (frame.flags & flagFin) stream.fin = true;
                stream.notify();
              }
              break;
            }
            case FrameType.rstStream: {
              const { streamId, status } = decodeRstStream(frame.payload);
              const stream = this.streams.get(streamId);
              if (stream) {
                stream.rstStatus = status;
                stream.notify();
              }
              break;
            }
            case FrameType.ping:
              this.pings.push(decodePing(frame.payload));
              break;
            case FrameType.goAway:
              this.goAway = decodeGoAway(frame.payload);
              break;
          }
        }
      }
    } finally {
      this.ended = true;
      this.#connection.close();
      for (const stream of this.streams.values()) stream.notify();
    }
  }
}
