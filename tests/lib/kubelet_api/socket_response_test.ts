import assert from "node:assert/strict";
import { textResponse } from "../../../lib/kubelet_api/http_errors.ts";
import {
  writeSocketResponse,
  writeSwitchingProtocols,
} from "../../../lib/kubelet_api/socket_response.ts";
import { fakeSocket } from "./_fake_socket.ts";

Deno.test("socket response: status line, text/plain, content-length and Connection: close, then the end", async () => {
  const fake = fakeSocket({ closesOnEnd: true });
  await writeSocketResponse(fake.socket, textResponse(403, "Forbidden (x)"), { method: "POST" });
  await fake.closed;
  assert.equal(
    fake.written(),
    "HTTP/1.1 403 Forbidden\r\n" +
      "connection: close\r\n" +
      "content-length: 14\r\n" +
      "content-type: text/plain; charset=utf-8\r\n" +
      "x-content-type-options: nosniff\r\n" +
      "\r\n" +
      "Forbidden (x)\n",
  );
});

Deno.test("socket response: a streamed body goes out as it comes, delimited by the close", async () => {
  const fake = fakeSocket({ closesOnEnd: true });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("one\n"));
      controller.enqueue(new TextEncoder().encode("two\n"));
      controller.close();
    },
  });
  await writeSocketResponse(fake.socket, new Response(body, { status: 200 }), {
    method: "GET",
    stream: true,
  });
  await fake.closed;
  const text = fake.written();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(text, /content-length/);
  assert.ok(text.endsWith("\r\n\r\none\ntwo\n"), text);
});

Deno.test("socket response: HEAD gets no body, and header values with line breaks are refused", async () => {
  const head = fakeSocket({ closesOnEnd: true });
  await writeSocketResponse(head.socket, textResponse(200, "ok"), { method: "HEAD" });
  await head.closed;
  assert.ok(head.written().endsWith("\r\n\r\n"));
  assert.doesNotMatch(head.written(), /\r\n\r\nok/);

  const bad = fakeSocket({ closesOnEnd: true });
  assert.throws(
    () => writeSwitchingProtocols(bad.socket, { upgrade: "x\r\ninjected: 1" }),
    /header upgrade: expected a value without CR or LF, found x/,
  );
  assert.equal(bad.written(), "", "nothing is written");
  bad.socket.destroy();
});

Deno.test("socket response: 101 Switching Protocols carries the given headers and leaves the socket open", () => {
  const fake = fakeSocket({ closesOnEnd: true });
  writeSwitchingProtocols(fake.socket, { connection: "Upgrade", upgrade: "SPDY/3.1" });
  assert.equal(
    fake.written(),
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: SPDY/3.1\r\n\r\n",
  );
  assert.equal(fake.socket.writable, true);
  fake.socket.destroy();
});
