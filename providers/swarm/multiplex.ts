/**
 * The Engine's multiplexed stream (logs and exec without a TTY): frames of an 8-byte
 * header (stream 0 stdin, 1 stdout, 2 stderr or 3 system error; three zero bytes; the
 * payload length as a big-endian uint32) followed by the payload. {@linkcode FrameDecoder}
 * cuts bytes into frames whatever the chunking; {@linkcode demultiplex} does it for a
 * stream.
 *
 * @module
 */

/** One frame: which stream, and its bytes. */
export interface Frame {
  /** 0 stdin, 1 stdout, 2 stderr, 3 an error of the Engine itself. */
  stream: number;
  /** The payload. */
  bytes: Uint8Array;
}

const headerLength = 8;

/** Cuts a byte sequence into frames, across chunk boundaries. */
export class FrameDecoder {
  #buffered: Uint8Array = new Uint8Array(0);

  /** Adds `chunk` and returns the frames it completed. */
  push(chunk: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.#buffered.length + chunk.length);
    joined.set(this.#buffered);
    joined.set(chunk, this.#buffered.length);
    const frames: Frame[] = [];
    let offset = 0;
    while (joined.length - offset >= headerLength) {
      const view = new DataView(joined.buffer, joined.byteOffset + offset, headerLength);
      const stream = view.getUint8(0);
      if (stream > 3 || view.getUint8(1) !== 0 || view.getUint8(2) !== 0) {
        throw new Error(
          `expected a multiplexed stream header (stream 0-3, then zeros), found bytes ${
            Array.from(joined.subarray(offset, offset + 4)).join(",")
          }`,
        );
      }
      const size = view.getUint32(4);
      if (joined.length - offset - headerLength < size) break;
      const start = offset + headerLength;
      frames.push({ stream, bytes: joined.slice(start, start + size) });
      offset = start + size;
    }
    this.#buffered = joined.slice(offset);
    return frames;
  }

  /** Bytes of an unfinished frame at the end of the input. */
  get pendingBytes(): number {
    return this.#buffered.length;
  }
}

/** The frames of a multiplexed byte stream. */
export async function* demultiplex(stream: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new FrameDecoder();
  for await (const chunk of stream) yield* decoder.push(chunk);
}
