import assert from "node:assert/strict";
import { headerDictionary } from "../../../../lib/kubelet_api/spdy/dictionary.ts";
import {
  decodeHeaderBlock,
  decodeRstStream,
  decodeSynStream,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  flagFin,
  FrameReader,
  FrameType,
  RstStatus,
  SpdyProtocolError,
} from "../../../../lib/kubelet_api/spdy/frames.ts";
import {
  HeaderCompressor,
  HeaderDecompressor,
} from "../../../../lib/kubelet_api/spdy/header_compression.ts";

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

Deno.test("dictionary: the SPDY/3 table of the draft, 1423 bytes with Adler-32 0xe3c6a7c2", () => {
  assert.equal(headerDictionary.length, 1423);
  assert.equal(adler32(headerDictionary).toString(16), "e3c6a7c2");
  assert.deepEqual([...headerDictionary.subarray(0, 11)], [
    0,
    0,
    0,
    7,
    ..."options".split("").map((c) => c.charCodeAt(0)),
  ]);
});

Deno.test("frames: the reader cuts data and control frames out of any split of the bytes", () => {
  const frames = [
    encodeData(3, new TextEncoder().encode("hello")),
    encodePing(7),
    encodeData(5, new Uint8Array(0), flagFin),
    encodeRstStream(9, RstStatus.cancel),
    encodeGoAway(9, 0),
  ];
  const all = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    all.set(frame, offset);
    offset += frame.length;
  }
  for (const size of [1, 2, 3, 7, 8, 9, 1000]) {
    const reader = new FrameReader();
    const read = [];
    for (let at = 0; at < all.length; at += size) {
      reader.push(all.slice(at, at + size));
      for (let frame = reader.next(); frame; frame = reader.next()) read.push(frame);
    }
    assert.equal(reader.buffered, 0, `split ${size}`);
    assert.equal(read.length, 5, `split ${size}`);
    const [data, ping, fin, rst, goAway] = read;
    assert.ok(data.kind === "data" && data.streamId === 3 && data.flags === 0);
    assert.equal(new TextDecoder().decode(data.data), "hello");
    assert.ok(ping.kind === "control" && ping.type === FrameType.ping && ping.version === 3);
    assert.ok(fin.kind === "data" && fin.streamId === 5 && fin.flags === flagFin);
    assert.ok(rst.kind === "control" && rst.type === FrameType.rstStream);
    assert.deepEqual(decodeRstStream(rst.payload), { streamId: 9, status: RstStatus.cancel });
    assert.ok(goAway.kind === "control" && goAway.type === FrameType.goAway);
  }
});

Deno.test("frames: SYN_STREAM and SYN_REPLY carry the stream ID and the header block", () => {
  const block = new Uint8Array([1, 2, 3]);
  const reader = new FrameReader();
  reader.push(encodeSynStream(5, block, flagFin));
  reader.push(encodeSynReply(5, block));
  const syn = reader.next();
  assert.ok(syn?.kind === "control" && syn.type === FrameType.synStream);
  assert.equal(syn.flags, flagFin);
  const decoded = decodeSynStream(syn.payload);
  assert.equal(decoded.streamId, 5);
  assert.deepEqual([...decoded.headerBlock], [1, 2, 3]);
  const reply = reader.next();
  assert.ok(reply?.kind === "control" && reply.type === FrameType.synReply);
  assert.deepEqual([...reply.payload], [0, 0, 0, 5, 1, 2, 3]);
  assert.throws(() => decodeSynStream(new Uint8Array(4)), SpdyProtocolError);
});

Deno.test("header block: 32-bit counts and lengths; names must be lowercase", () => {
  const block = encodeHeaderBlock({ streamtype: "error", port: "8080" });
  assert.deepEqual([...block.subarray(0, 8)], [0, 0, 0, 2, 0, 0, 0, 10]);
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: "error", port: "8080" });
  const upper = new Uint8Array(block);
  upper[8] = "S".charCodeAt(0);
  assert.throws(() => decodeHeaderBlock(upper), /expected a lowercase name, found "Streamtype"/);
  assert.throws(() => decodeHeaderBlock(block.subarray(0, 12)), SpdyProtocolError);
});

Deno.test("header compression: one context per direction across blocks, primed with the dictionary", () => {
  const compressor = new HeaderCompressor();
  const decompressor = new HeaderDecompressor();
  const first = compressor.compress({ streamtype: "error" });
  // zlib header with FDICT, then the dictionary's Adler-32, as Go's spdystream writes.
  assert.deepEqual([...first.subarray(0, 6)], [0x78, 0xbb, 0xe3, 0xc6, 0xa7, 0xc2]);
  assert.deepEqual([...first.subarray(-4)], [0, 0, 0xff, 0xff], "ends with a sync flush");
  assert.deepEqual(decompressor.decompress(first), { streamtype: "error" });
  const second = compressor.compress({ streamtype: "stdin" });
  assert.notEqual(second[0], 0x78, "later blocks continue the stream without a header");
  assert.deepEqual(decompressor.decompress(second), { streamtype: "stdin" });
  assert.deepEqual(decompressor.decompress(compressor.compress({})), {});
  assert.throws(
    () => new HeaderDecompressor().decompress(second),
    /expected zlib data with the SPDY dictionary/,
  );
});
