/**
 * SPDY/3.1 frames (SPDY draft 3.1, section 2.2): a reader that cuts a byte stream into data
 * and control frames, decoders of the control payloads a server receives, and encoders of
 * the frames it sends. All numbers are big-endian; header blocks are handled (compressed)
 * by `header_compression.ts`.
 *
 * @module
 */

/** The SPDY version this codec speaks. */
export const spdyVersion = 3;

/** Control frame types. */
export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

/** FLAG_FIN, on data frames and on SYN_STREAM, SYN_REPLY and HEADERS. */
export const flagFin = 0x01;

/** FLAG_UNIDIRECTIONAL, on SYN_STREAM. */
export const flagUnidirectional = 0x02;

/** The largest payload a frame's 24-bit length can carry. */
export const maxFrameLength = 0xff_ff_ff;

/** A frame as read from the wire. */
export type Frame =
  | { kind: "data"; streamId: number; flags: number; data: Uint8Array }
  | { kind: "control"; version: number; type: number; flags: number; payload: Uint8Array };

/** Thrown for bytes that are not a valid frame; the session answers with GOAWAY. */
export class SpdyProtocolError extends Error {
  override name = "SpdyProtocolError";
}

/**
 * Cuts a byte stream into frames: `push` what arrived, then take frames with `next` until it
 * returns undefined (an incomplete frame waits for more bytes).
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Bytes buffered and not yet returned as frames. */
  get buffered(): number {
    return this.#length;
  }

  /** Adds bytes read from the connection. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** The next complete frame, or undefined when more bytes are needed. */
  next(): Frame | undefined {
    if (this.#length < 8) return undefined;
    const head = this.#peek(8);
    const view = new DataView(head.buffer, head.byteOffset, 8);
    const length = view.getUint32(4) & maxFrameLength;
    if (this.#length < 8 + length) return undefined;
    this.#take(8);
    const body = this.#take(length);
    const flags = head[4];
    if ((head[0] & 0x80) === 0) {
      return { kind: "data", streamId: view.getUint32(0) & 0x7fff_ffff, flags, data: body };
    }
    return {
      kind: "control",
      version: view.getUint16(0) & 0x7fff,
      type: view.getUint16(2),
      flags,
      payload: body,
    };
  }

  #peek(count: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length >= count) return first.subarray(0, count);
    const out = new Uint8Array(count);
    let filled = 0;
    for (const chunk of this.#chunks) {
      const part = chunk.subarray(0, count - filled);
      out.set(part, filled);
      filled += part.length;
      if (filled === count) break;
    }
    return out;
  }

  #take(count: number): Uint8Array {
    this.#length -= count;
    const first = this.#chunks[0];
    if (count === 0) return new Uint8Array(0);
    if (first.length === count) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > count) {
      this.#chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = new Uint8Array(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.#chunks[0];
      const part = chunk.subarray(0, count - filled);
      out.set(part, filled);
      filled += part.length;
      if (part.length === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part.length);
    }
    return out;
  }
}

function viewOf(payload: Uint8Array): DataView {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

function expectLength(payload: Uint8Array, minimum: number, what: string): DataView {
  if (payload.length < minimum) {
    throw new SpdyProtocolError(
      `${what}: expected a payload of at least ${minimum} bytes, found ${payload.length}`,
    );
  }
  return viewOf(payload);
}

/** A SYN_STREAM's fields; `headerBlock` is still compressed. */
export interface SynStream {
  streamId: number;
  associatedStreamId: number;
  priority: number;
  headerBlock: Uint8Array;
}

/** Decodes a SYN_STREAM payload. */
export function decodeSynStream(payload: Uint8Array): SynStream {
  const view = expectLength(payload, 10, "SYN_STREAM");
  return {
    streamId: view.getUint32(0) & 0x7fff_ffff,
    associatedStreamId: view.getUint32(4) & 0x7fff_ffff,
    priority: payload[8] >> 5,
    headerBlock: payload.subarray(10),
  };
}

/** Decodes the stream ID and compressed header block of a SYN_REPLY or HEADERS payload. */
export function decodeStreamHeaders(
  payload: Uint8Array,
): { streamId: number; headerBlock: Uint8Array } {
  const view = expectLength(payload, 4, "SYN_REPLY/HEADERS");
  return { streamId: view.getUint32(0) & 0x7fff_ffff, headerBlock: payload.subarray(4) };
}

/** Decodes a RST_STREAM payload. */
export function decodeRstStream(payload: Uint8Array): { streamId: number; status: number } {
  const view = expectLength(payload, 8, "RST_STREAM");
  return { streamId: view.getUint32(0) & 0x7fff_ffff, status: view.getUint32(4) };
}

/** Decodes a PING payload: its 32-bit ID. */
export function decodePing(payload: Uint8Array): number {
  return expectLength(payload, 4, "PING").getUint32(0);
}

/** Decodes a GOAWAY payload. */
export function decodeGoAway(payload: Uint8Array): { lastGoodStreamId: number; status: number } {
  const view = expectLength(payload, 4, "GOAWAY");
  return {
    lastGoodStreamId: view.getUint32(0) & 0x7fff_ffff,
    status: payload.length >= 8 ? view.getUint32(4) : GoAwayStatus.ok,
  };
}

function controlFrame(type: number, flags: number, payload: Uint8Array): Uint8Array {
  if (payload.length > maxFrameLength) {
    throw new RangeError(
      `control frame ${type}: expected at most ${maxFrameLength} bytes, found ${payload.length}`,
    );
  }
  const frame = new Uint8Array(8 + payload.length);
  const view = viewOf(frame);
  view.setUint16(0, 0x8000 | spdyVersion);
  view.setUint16(2, type);
  view.setUint32(4, (flags << 24) | payload.length);
  frame.set(payload, 8);
  return frame;
}

/** A DATA frame; `data` must fit in one frame (see {@linkcode maxFrameLength}). */
export function encodeData(streamId: number, data: Uint8Array, flags = 0): Uint8Array {
  if (data.length > maxFrameLength) {
    throw new RangeError(
      `data frame: expected at most ${maxFrameLength} bytes, found ${data.length}`,
    );
  }
  const frame = new Uint8Array(8 + data.length);
  const view = viewOf(frame);
  view.setUint32(0, streamId & 0x7fff_ffff);
  view.setUint32(4, (flags << 24) | data.length);
  frame.set(data, 8);
  return frame;
}

/** A SYN_STREAM carrying the already compressed `headerBlock` (what a client sends). */
export function encodeSynStream(streamId: number, headerBlock: Uint8Array, flags = 0): Uint8Array {
  const payload = new Uint8Array(10 + headerBlock.length);
  viewOf(payload).setUint32(0, streamId & 0x7fff_ffff);
  payload.set(headerBlock, 10);
  return controlFrame(FrameType.synStream, flags, payload);
}

/** A SYN_REPLY carrying the already compressed `headerBlock`. */
export function encodeSynReply(streamId: number, headerBlock: Uint8Array, flags = 0): Uint8Array {
  const payload = new Uint8Array(4 + headerBlock.length);
  viewOf(payload).setUint32(0, streamId & 0x7fff_ffff);
  payload.set(headerBlock, 4);
  return controlFrame(FrameType.synReply, flags, payload);
}

/** A RST_STREAM with `status` (one of {@linkcode RstStatus}). */
export function encodeRstStream(streamId: number, status: number): Uint8Array {
  const payload = new Uint8Array(8);
  const view = viewOf(payload);
  view.setUint32(0, streamId & 0x7fff_ffff);
  view.setUint32(4, status);
  return controlFrame(FrameType.rstStream, 0, payload);
}

/** A PING with `id`. */
export function encodePing(id: number): Uint8Array {
  const payload = new Uint8Array(4);
  viewOf(payload).setUint32(0, id);
  return controlFrame(FrameType.ping, 0, payload);
}

/** A GOAWAY naming the last stream the sender processed. */
export function encodeGoAway(lastGoodStreamId: number, status: number): Uint8Array {
  const payload = new Uint8Array(8);
  const view = viewOf(payload);
  view.setUint32(0, lastGoodStreamId & 0x7fff_ffff);
  view.setUint32(4, status);
  return controlFrame(FrameType.goAway, 0, payload);
}

/** The header names and values of a header block, names in lower case. */
export type HeaderPairs = Record<string, string>;

/**
 * The uncompressed header block (SPDY/3: 32-bit count and lengths) of `headers`. Values with
 * several parts keep SPDY's NUL separators.
 */
export function encodeHeaderBlock(headers: HeaderPairs): Uint8Array {
  const encoder = new TextEncoder();
  const pairs = Object.entries(headers).map(([name, value]) => [
    encoder.encode(name.toLowerCase()),
    encoder.encode(value),
  ]);
  const size = 4 + pairs.reduce((sum, [name, value]) => sum + 8 + name.length + value.length, 0);
  const block = new Uint8Array(size);
  const view = viewOf(block);
  view.setUint32(0, pairs.length);
  let offset = 4;
  for (const [name, value] of pairs) {
    view.setUint32(offset, name.length);
    block.set(name, offset + 4);
    offset += 4 + name.length;
    view.setUint32(offset, value.length);
    block.set(value, offset + 4);
    offset += 4 + value.length;
  }
  return block;
}

/** Decodes an uncompressed header block; several values of one name are joined by `,`. */
export function decodeHeaderBlock(block: Uint8Array): HeaderPairs {
  const decoder = new TextDecoder();
  const view = expectLength(block, 4, "header block");
  const count = view.getUint32(0);
  const headers: HeaderPairs = {};
  let offset = 4;
  const read = (what: string): string => {
    if (offset + 4 > block.length) {
      throw new SpdyProtocolError(`header block: ${what} length runs past the end`);
    }
    const length = view.getUint32(offset);
    if (offset + 4 + length > block.length) {
      throw new SpdyProtocolError(
        `header block: ${what} of ${length} bytes runs past the end (${block.length} bytes)`,
      );
    }
    const text = decoder.decode(block.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
    return text;
  };
  for (let index = 0; index < count; index++) {
    const name = read("name");
    const value = read(`value of ${name}`);
    if (name === "" || name !== name.toLowerCase()) {
      throw new SpdyProtocolError(`header block: expected a lowercase name, found "${name}"`);
    }
    headers[name] = value.split("\0").join(",");
  }
  return headers;
}
