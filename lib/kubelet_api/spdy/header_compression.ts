/**
 * SPDY/3 header compression: one zlib context per direction for the whole session, both
 * primed with the SPDY dictionary, each header block ending with a sync flush. pako does
 * the zlib work because Deno's `node:zlib` ignores `dictionary` when deflating (and its
 * streaming API is asynchronous, while a header block must be compressed in send order).
 *
 * @module
 */

import { Deflate, Inflate, Z_SYNC_FLUSH } from "pako";
import { headerDictionary } from "./dictionary.ts";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  type HeaderPairs,
  SpdyProtocolError,
} from "./frames.ts";

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Compresses the header blocks one side of a session sends, in the order it sends them. */
export class HeaderCompressor {
  readonly #deflate = new Deflate({ dictionary: headerDictionary });
  #out: Uint8Array[] = [];

  /** Creates the side's compression context. */
  constructor() {
    this.#deflate.onData = (chunk) => void this.#out.push(chunk.slice());
  }

  /** The compressed block of `headers`, flushed so that the peer can decode it at once. */
  compress(headers: HeaderPairs): Uint8Array {
    this.#out = [];
    this.#deflate.push(encodeHeaderBlock(headers), Z_SYNC_FLUSH);
    if (this.#deflate.err) {
      throw new Error(`header compression failed: ${this.#deflate.msg || this.#deflate.err}`);
    }
    return concat(this.#out);
  }
}

/** Decompresses the header blocks the peer sends, each exactly once and in arrival order. */
export class HeaderDecompressor {
  readonly #inflate = new Inflate({ dictionary: headerDictionary });
  #out: Uint8Array[] = [];

  /** Creates the receiving context. */
  constructor() {
    this.#inflate.onData = (chunk) => void this.#out.push(chunk.slice());
  }

  /** The headers of the compressed block `block`. */
  decompress(block: Uint8Array): HeaderPairs {
    this.#out = [];
    this.#inflate.push(block, Z_SYNC_FLUSH);
    if (this.#inflate.err) {
      throw new SpdyProtocolError(
        `header block: expected zlib data with the SPDY dictionary, found an error (${
          this.#inflate.msg || this.#inflate.err
        })`,
      );
    }
    return decodeHeaderBlock(concat(this.#out));
  }
}
