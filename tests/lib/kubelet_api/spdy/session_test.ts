import assert from "node:assert/strict";
import {
  decodeGoAway,
  decodePing,
  decodeRstStream,
  encodeData,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  flagFin,
  type Frame,
  FrameReader,
  FrameType,
  GoAwayStatus,
  RstStatus,
} from "../../../../lib/kubelet_api/spdy/frames.ts";
import { HeaderCompressor } from "../../../../lib/kubelet_api/spdy/header_compression.ts";
import {
  SpdySession,
  type SpdySessionOptions,
  type SpdyStream,
} from "../../../../lib/kubelet_api/spdy/session.ts";

/** A session over in-memory streams and the client side of it. */
function pair(options: Partial<SpdySessionOptions> = {}) {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const opened: SpdyStream[] = [];
  const session = new SpdySession({ readable: toServer.readable, writable: toClient.writable }, {
    onStream: (stream) => void opened.push(stream),
    ...options,
  });
  const writer = toServer.writable.getWriter();
  const reader = toClient.readable.getReader();
  const frames = new FrameReader();
  const compressor = new HeaderCompressor();
  let serverClosed = false;
  const client = {
    opened,
    send: (frame: Uint8Array) => writer.write(frame),
    open: (id: number, headers: Record<string, string>) =>
      writer.write(encodeSynStream(id, compressor.compress(headers))),
    closeConnection: () => writer.close(),
    get serverClosed() {
      return serverClosed;
    },
    /** The next frame the server sends, or undefined once it closed its side. */
    async next(): Promise<Frame | undefined> {
      while (true) {
        const frame = frames.next();
        if (frame) return frame;
        const { done, value } = await reader.read();
        if (done) {
          serverClosed = true;
          return undefined;
        }
        frames.push(value);
      }
    },
  };
  return { session, client };
}

async function nextControl(client: ReturnType<typeof pair>["client"], type: number) {
  while (true) {
    const frame = await client.next();
    if (frame === undefined) throw new Error(`connection closed before control frame ${type}`);
    if (frame.kind === "control" && frame.type === type) return frame;
  }
}

Deno.test("session: a SYN_STREAM is answered with SYN_REPLY, then data flows both ways and FINs close it", async () => {
  const { session, client } = pair();
  await client.open(1, { streamtype: "stdin" });
  const reply = await client.next();
  assert.ok(reply?.kind === "control" && reply.type === FrameType.synReply);
  assert.equal(client.opened.length, 1);
  const stream = client.opened[0];
  assert.equal(stream.id, 1);
  assert.deepEqual(stream.headers, { streamtype: "stdin" });
  await client.send(encodeData(1, new TextEncoder().encode("ping?")));
  await client.send(encodeData(1, new Uint8Array(0), flagFin));
  assert.equal(await new Response(stream.readable).text(), "ping?");
  // The in-memory connection only takes a frame once the client reads it.
  const writing = stream.write(new TextEncoder().encode("pong!")).then(() => stream.close());
  const data = await client.next();
  assert.ok(data?.kind === "data" && data.streamId === 1);
  assert.equal(new TextDecoder().decode(data.data), "pong!");
  const fin = await client.next();
  assert.ok(fin?.kind === "data" && fin.flags === flagFin && fin.data.length === 0);
  await writing;
  await stream.closed;
  assert.equal(session.openStreams, 0);
  await client.closeConnection();
  assert.equal(await session.done, "peer-closed");
});

Deno.test("session: client PINGs (odd IDs) are echoed, even IDs are not", async () => {
  const { session, client } = pair();
  await client.send(encodePing(2));
  await client.send(encodePing(7));
  const echo = await nextControl(client, FrameType.ping);
  assert.equal(decodePing(echo.payload), 7);
  await client.closeConnection();
  await session.done;
});

Deno.test("session: RST_STREAM from the client ends the stream's input and refuses later writes", async () => {
  const { session, client } = pair();
  await client.open(1, { streamtype: "data" });
  await nextControl(client, FrameType.synReply);
  await client.send(encodeRstStream(1, RstStatus.cancel));
  const stream = client.opened[0];
  assert.equal(await new Response(stream.readable).text(), "");
  await stream.closed;
  await assert.rejects(stream.write(new Uint8Array([1])), /found it reset/);
  await client.closeConnection();
  await session.done;
});

Deno.test("session: even or repeated stream IDs and refused streams are reset, others go on", async () => {
  const { session, client } = pair({
    onStream(stream) {
      if (stream.headers.streamtype === "bogus") throw new Error("unexpected stream type");
    },
  });
  await client.open(2, { streamtype: "error" });
  let rst = await nextControl(client, FrameType.rstStream);
  assert.deepEqual(decodeRstStream(rst.payload), { streamId: 2, status: RstStatus.protocolError });
  await client.open(3, { streamtype: "bogus" });
  await nextControl(client, FrameType.synReply);
  rst = await nextControl(client, FrameType.rstStream);
  assert.deepEqual(decodeRstStream(rst.payload), { streamId: 3, status: RstStatus.refusedStream });
  await client.open(1, { streamtype: "error" });
  rst = await nextControl(client, FrameType.rstStream);
  assert.deepEqual(decodeRstStream(rst.payload), { streamId: 1, status: RstStatus.protocolError });
  await client.open(5, { streamtype: "error" });
  await nextControl(client, FrameType.synReply);
  await client.send(encodeData(99, new Uint8Array([1])));
  rst = await nextControl(client, FrameType.rstStream);
  assert.deepEqual(decodeRstStream(rst.payload), { streamId: 99, status: RstStatus.invalidStream });
  await client.closeConnection();
  await session.done;
});

Deno.test("session: a control frame of another SPDY version ends the session with GOAWAY PROTOCOL_ERROR", async () => {
  const { session, client } = pair();
  const ping = encodePing(1);
  ping[1] = 2;
  await client.send(ping);
  const goAway = await nextControl(client, FrameType.goAway);
  assert.equal(decodeGoAway(goAway.payload).status, GoAwayStatus.protocolError);
  assert.equal(await session.done, "protocol-error");
});

Deno.test("session: the idle timeout counts data, not PINGs, and ends with GOAWAY", async () => {
  const { session, client } = pair({ idleTimeoutMs: 300 });
  await client.open(1, { streamtype: "stdin" });
  await nextControl(client, FrameType.synReply);
  for (let index = 0; index < 3; index++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await client.send(encodeData(1, new Uint8Array([index])));
  }
  assert.equal(session.signal.aborted, false, "data kept it alive");
  const started = Date.now();
  const pinging = setInterval(() => void client.send(encodePing(9)).catch(() => {}), 50);
  try {
    await new Promise((resolve) => session.signal.addEventListener("abort", resolve));
    assert.ok(Date.now() - started < 1_000, "pings did not keep it alive");
    assert.match(String(session.signal.reason), /stream idle timeout: no data for 300ms/);
    // Handlers may still write a status for a moment; then the session says GOAWAY.
    const goAway = await nextControl(client, FrameType.goAway);
    assert.equal(decodeGoAway(goAway.payload).status, GoAwayStatus.ok);
    assert.ok(Date.now() - started < 3_500);
  } finally {
    clearInterval(pinging);
  }
  await client.closeConnection().catch(() => {});
  assert.equal(await session.done, "idle-timeout");
});

Deno.test("session: close sends GOAWAY, ends our side, and finishes once the client closes", async () => {
  const { session, client } = pair();
  await client.open(1, { streamtype: "error" });
  await nextControl(client, FrameType.synReply);
  const closing = session.close(5_000);
  const goAway = await nextControl(client, FrameType.goAway);
  assert.deepEqual(decodeGoAway(goAway.payload), { lastGoodStreamId: 1, status: GoAwayStatus.ok });
  assert.equal(await client.next(), undefined);
  assert.ok(client.serverClosed);
  await client.closeConnection();
  assert.equal(await closing, "closed");
});
