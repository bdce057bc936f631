/**
 * The server side of a SPDY/3.1 session, as Kubernetes' streaming clients (moby/spdystream
 * under client-go) use it: the peer opens every stream with SYN_STREAM and the server
 * answers with SYN_REPLY at once; DATA with FIN half-closes a direction and RST_STREAM ends
 * a stream; PINGs are echoed; GOAWAY ends the session. Flow-control windows are not enforced
 * because spdystream never sends WINDOW_UPDATE (a sender that waited for credit would stop
 * after 64 KiB): backpressure comes from TCP, as in spdystream, and a stream whose reader
 * falls behind pauses the reading of the whole connection.
 *
 * The idle timeout counts data and new streams, not PINGs, so that a session whose client
 * only pings (kubectl pings every 5 s) does end; spdystream counts pings too, which is why
 * the kubelet's idle timeout never fires behind kubectl.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { formatDuration } from "../../duration.ts";
import { errorMessage } from "../../errors.ts";
import type { ByteStream } from "../../provider.ts";
import {
  decodeGoAway,
  decodePing,
  decodeRstStream,
  decodeStreamHeaders,
  decodeSynStream,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  flagFin,
  type Frame,
  FrameReader,
  FrameType,
  GoAwayStatus,
  type HeaderPairs,
  RstStatus,
  SpdyProtocolError,
  spdyVersion,
} from "./frames.ts";
import { HeaderCompressor, HeaderDecompressor } from "./header_compression.ts";

const logger = getLogger(["vkedge", "kubelet_api", "spdy"]);

/** Largest DATA payload this side sends in one frame. */
const maxDataFrame = 64 * 1024;

/** How long handlers of an idle session may still write (a status) before it closes. */
const idleGraceMs = 2_000;

/** Bytes a stream buffers for its reader before the session stops reading the connection. */
const streamHighWaterMark = 256 * 1024;

/** One stream the peer opened. */
export interface SpdyStream {
  /** Stream ID (odd: opened by the client). */
  readonly id: number;
  /** The SYN_STREAM's headers, names in lower case (such as `streamtype`). */
  readonly headers: HeaderPairs;
  /** What the peer sends on the stream; ends at its FIN, its RST_STREAM or the session's end. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Sends `data` in DATA frames; resolves when the connection took it (backpressure). */
  write(data: Uint8Array): Promise<void>;
  /** Half-closes the stream (an empty DATA frame with FIN); later calls do nothing. */
  close(): Promise<void>;
  /** Ends both directions with RST_STREAM (`status` default CANCEL). */
  reset(status?: number): void;
  /** Resolves once both directions are closed or the stream was reset. */
  readonly closed: Promise<void>;
}

/** Options of {@linkcode SpdySession}. */
export interface SpdySessionOptions {
  /**
   * Called for every stream the peer opens, after its SYN_REPLY was queued; throwing refuses
   * the stream (RST_STREAM REFUSED_STREAM).
   */
  onStream(stream: SpdyStream): void;
  /** The session ends after this long without data or new streams; 0 or absent: never. */
  idleTimeoutMs?: number;
  /** Name for logs, such as `exec default/web/app`. */
  name?: string;
}

/** Why a session ended. */
export type SessionEnd = "closed" | "peer-closed" | "idle-timeout" | "protocol-error" | "error";

class SessionStream implements SpdyStream {
  readonly id: number;
  readonly headers: HeaderPairs;
  readonly readable: ReadableStream<Uint8Array>;
  readonly closed: Promise<void>;
  readonly #session: SpdySession;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #resume: (() => void) | undefined;
  #cancelled = false;
  #remoteClosed = false;
  #localClosed = false;
  #wasReset = false;
  #settle!: () => void;

  constructor(session: SpdySession, id: number, headers: HeaderPairs) {
    this.#session = session;
    this.id = id;
    this.headers = headers;
    this.closed = new Promise((resolve) => this.#settle = resolve);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => void (this.#controller = controller),
      pull: () => this.#wake(),
      cancel: () => {
        this.#cancelled = true;
        this.#wake();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: streamHighWaterMark }));
  }

  get remoteClosed(): boolean {
    return this.#remoteClosed;
  }

  async write(data: Uint8Array): Promise<void> {
    for (let offset = 0; offset < data.length; offset += maxDataFrame) {
      if (this.#localClosed) {
        throw new Error(
          `spdy stream ${this.id}: expected an open stream to write to, found it ${
            this.#wasReset ? "reset" : "closed"
          }`,
        );
      }
      const part = data.subarray(offset, offset + maxDataFrame);
      await this.#session.sendData(encodeData(this.id, part));
    }
  }

  async close(): Promise<void> {
    if (this.#localClosed) return;
    this.#localClosed = true;
    this.#checkSettled();
    await this.#session.sendData(encodeData(this.id, new Uint8Array(0), flagFin)).catch(() => {});
  }

  reset(status: number = RstStatus.cancel): void {
    if (this.#wasReset || (this.#localClosed && this.#remoteClosed)) return;
    this.#session.sendControl(encodeRstStream(this.id, status));
    this.receiveReset();
  }

  /** Data from the peer; resolves when the reader wants more (the session reads on then). */
  receiveData(data: Uint8Array): Promise<void> | undefined {
    if (this.#cancelled || data.length === 0) return undefined;
    this.#controller.enqueue(data);
    if ((this.#controller.desiredSize ?? 1) > 0) return undefined;
    return new Promise<void>((resolve) => this.#resume = resolve);
  }

  /** The peer's FIN. */
  receiveFin(): void {
    if (this.#remoteClosed) return;
    this.#remoteClosed = true;
    if (!this.#cancelled) this.#controller.close();
    this.#wake();
    this.#checkSettled();
  }

  /** The peer's RST_STREAM, a reset of ours, or the end of the session. */
  receiveReset(): void {
    this.#wasReset = !(this.#localClosed && this.#remoteClosed);
    this.#localClosed = true;
    this.receiveFin();
  }

  #wake(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }

  #checkSettled(): void {
    if (this.#localClosed && this.#remoteClosed) {
      this.#settle();
      this.#session.forget(this);
    }
  }
}

/** The server side of one SPDY/3.1 connection. */
export class SpdySession {
  readonly #options: SpdySessionOptions;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #frames = new FrameReader();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, SessionStream>();
  readonly #ended = new AbortController();
  readonly #done: Promise<SessionEnd>;
  #lastStreamId = 0;
  #goAwaySent = false;
  #writerClosed = false;
  #peerGoneAway = false;
  #end: SessionEnd | undefined;
  #lastActivity = Date.now();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** Starts serving the session on `transport` (already switched to SPDY/3.1). */
  constructor(transport: ByteStream, options: SpdySessionOptions) {
    this.#options = options;
    this.#writer = transport.writable.getWriter();
    this.#reader = transport.readable.getReader();
    this.#writer.closed.catch(() => this.#terminate("error"));
    this.#armIdleTimer();
    this.#done = this.#readLoop();
  }

  /** Aborted when the session ends, with the reason as a message. */
  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  /** Resolves with the reason once the session has ended and its connection is closed. */
  get done(): Promise<SessionEnd> {
    return this.#done;
  }

  /** Why the session ended or is ending, once it does. */
  get end(): SessionEnd | undefined {
    return this.#end;
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /**
   * Ends the session politely: GOAWAY, then the end of our side of the connection, then up
   * to `graceMs` for the peer to close its side (so that nothing it still sends makes the
   * kernel reset the connection before it read our last frames), then the connection closes.
   */
  async close(graceMs = 5_000): Promise<SessionEnd> {
    this.#sendGoAway(GoAwayStatus.ok);
    this.#end ??= "closed";
    // Nothing more is read or written on the streams: frames still coming for them are dropped.
    for (const stream of [...this.#streams.values()]) stream.receiveReset();
    await this.#closeWriter();
    const timer = setTimeout(() => void this.#reader.cancel().catch(() => {}), graceMs);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
      clearTimeout(this.#idleTimer);
    }
  }

  /** Queues a data frame and resolves when the connection accepted it. */
  async sendData(frame: Uint8Array): Promise<void> {
    if (this.#writerClosed) throw new Error("spdy session: the connection is closed");
    this.#lastActivity = Date.now();
    await this.#writer.write(frame);
  }

  /** Queues a control frame without waiting (order is kept with every other frame). */
  sendControl(frame: Uint8Array): void {
    if (this.#writerClosed) return;
    this.#writer.write(frame).catch(() => {});
  }

  async #closeWriter(): Promise<void> {
    if (this.#writerClosed) return;
    this.#writerClosed = true;
    await this.#writer.close().catch(() => {});
  }

  /** Drops a stream whose both directions are closed. */
  forget(stream: SpdyStream): void {
    this.#streams.delete(stream.id);
  }

  async #readLoop(): Promise<SessionEnd> {
    try {
      while (true) {
        const { done, value } = await this.#reader.read();
        if (done) break;
        this.#frames.push(value);
        for (let frame = this.#frames.next(); frame; frame = this.#frames.next()) {
          const waiting = this.#handle(frame);
          if (waiting) await waiting;
        }
      }
      this.#end ??= "peer-closed";
    } catch (error) {
      if (error instanceof SpdyProtocolError) {
        logger.warn("spdy session {name}: {error}", {
          name: this.#options.name ?? "",
          error: error.message,
        });
        this.#sendGoAway(GoAwayStatus.protocolError);
        this.#end ??= "protocol-error";
      } else {
        if (this.#end === undefined) {
          logger.debug("spdy session {name} ended: {error}", {
            name: this.#options.name ?? "",
            error: errorMessage(error),
          });
        }
        this.#end ??= "error";
      }
    }
    const end = this.#end ?? "error";
    this.#terminate(end);
    await this.#closeWriter();
    await this.#reader.cancel().catch(() => {});
    return end;
  }

  #handle(frame: Frame): Promise<void> | undefined {
    if (frame.kind === "data") return this.#handleData(frame.streamId, frame.flags, frame.data);
    if (frame.version !== spdyVersion) {
      throw new SpdyProtocolError(
        `expected SPDY version ${spdyVersion} control frames, found version ${frame.version}`,
      );
    }
    switch (frame.type) {
      case FrameType.synStream:
        this.#handleSynStream(frame.flags, frame.payload);
        return undefined;
      case FrameType.synReply:
      case FrameType.headers:
        // Decoded only to keep the decompression context in step; a server needs neither.
        this.#decompressor.decompress(decodeStreamHeaders(frame.payload).headerBlock);
        return undefined;
      case FrameType.rstStream: {
        const { streamId } = decodeRstStream(frame.payload);
        this.#streams.get(streamId)?.receiveReset();
        return undefined;
      }
      case FrameType.ping: {
        const id = decodePing(frame.payload);
        // Odd IDs are the client's own pings; even ones would be replies to ours (we send none).
        if (id % 2 === 1) this.sendControl(encodePing(id));
        return undefined;
      }
      case FrameType.goAway:
        decodeGoAway(frame.payload);
        this.#peerGoneAway = true;
        return undefined;
      default:
        // SETTINGS and WINDOW_UPDATE are advisory here (see the module notes); unknown
        // control frames are ignored, as the specification asks.
        return undefined;
    }
  }

  #handleSynStream(flags: number, payload: Uint8Array): void {
    const syn = decodeSynStream(payload);
    // Always decompress, even a refused stream's block, to keep the context in step.
    const headers = this.#decompressor.decompress(syn.headerBlock);
    const id = syn.streamId;
    if (id % 2 === 0 || id <= this.#lastStreamId) {
      this.sendControl(encodeRstStream(id, RstStatus.protocolError));
      return;
    }
    this.#lastStreamId = id;
    this.#lastActivity = Date.now();
    if (this.#peerGoneAway || this.#goAwaySent) {
      this.sendControl(encodeRstStream(id, RstStatus.refusedStream));
      return;
    }
    const stream = new SessionStream(this, id, headers);
    this.#streams.set(id, stream);
    this.sendControl(encodeSynReply(id, this.#compressor.compress({})));
    if ((flags & flagFin) !== 0) stream.receiveFin();
    try {
      this.#options.onStream(stream);
    } catch (error) {
      logger.debug("spdy session {name}: refused stream {id}: {error}", {
        name: this.#options.name ?? "",
        id,
        error: errorMessage(error),
      });
      stream.reset(RstStatus.refusedStream);
    }
  }

  #handleData(streamId: number, flags: number, data: Uint8Array): Promise<void> | undefined {
    this.#lastActivity = Date.now();
    const stream = this.#streams.get(streamId);
    if (stream === undefined) {
      // A stream we reset or closed may still have frames in flight; a new ID is an error.
      if (streamId > this.#lastStreamId) {
        this.sendControl(encodeRstStream(streamId, RstStatus.invalidStream));
      }
      return undefined;
    }
    if (stream.remoteClosed) {
      stream.reset(RstStatus.streamAlreadyClosed);
      return undefined;
    }
    const waiting = stream.receiveData(data);
    if ((flags & flagFin) !== 0) stream.receiveFin();
    return waiting;
  }

  #sendGoAway(status: number): void {
    if (this.#goAwaySent) return;
    this.#goAwaySent = true;
    this.sendControl(encodeGoAway(this.#lastStreamId, status));
  }

  #armIdleTimer(): void {
    const idleMs = this.#options.idleTimeoutMs ?? 0;
    if (idleMs <= 0) return;
    const check = () => {
      const quietMs = Date.now() - this.#lastActivity;
      if (quietMs < idleMs) {
        this.#idleTimer = setTimeout(check, idleMs - quietMs);
        return;
      }
      logger.info("spdy session {name}: idle for {seconds} s, closing", {
        name: this.#options.name ?? "",
        seconds: Math.round(quietMs / 1000),
      });
      this.#end ??= "idle-timeout";
      // Handlers see the signal and may still report on their streams before the close.
      this.#ended.abort(new Error(`stream idle timeout: no data for ${formatDuration(idleMs)}`));
      this.#idleTimer = setTimeout(() => void this.close(1_000), idleGraceMs);
    };
    this.#idleTimer = setTimeout(check, idleMs);
  }

  #terminate(end: SessionEnd): void {
    this.#end ??= end;
    if (end !== "idle-timeout") clearTimeout(this.#idleTimer);
    if (!this.#ended.signal.aborted) this.#ended.abort(new Error(`spdy session ended: ${end}`));
    for (const stream of [...this.#streams.values()]) stream.receiveReset();
    this.#streams.clear();
  }
}
