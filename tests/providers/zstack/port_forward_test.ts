import assert from "node:assert/strict";
import { NotImplementedError, UnavailableError } from "../../../lib/provider.ts";
import { forwardToVm, noExecChannel } from "../../../providers/zstack/port_forward.ts";

const signal = new AbortController().signal;

function clientConnection(input: Uint8Array) {
  const received: Uint8Array[] = [];
  return {
    received: () => new Uint8Array(received.flatMap((chunk) => [...chunk])),
    stream: {
      readable: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(input);
          controller.close();
        },
      }),
      writable: new WritableStream<Uint8Array>({ write: (chunk) => void received.push(chunk) }),
    },
  };
}

Deno.test("zstack port-forward: dials the VM's IP and port and copies both ways until both sides end", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const serving = (async () => {
    const conn = await listener.accept();
    // An echo server that says hello first, as a real service might.
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode("hello:"));
    writer.releaseLock();
    await conn.readable.pipeTo(conn.writable);
  })();
  try {
    const data = crypto.getRandomValues(new Uint8Array(50_000));
    const client = clientConnection(data);
    await forwardToVm(
      { pod: "ns/vm", ip: "127.0.0.1", state: "Running" },
      { port, connection: client.stream },
      signal,
    );
    const got = client.received();
    assert.equal(new TextDecoder().decode(got.subarray(0, 6)), "hello:");
    assert.deepEqual(got.subarray(6), data);
    await serving;
  } finally {
    listener.close();
  }
});

Deno.test("zstack port-forward: no IP yet, or nothing listening, is UnavailableError saying where", async () => {
  await assert.rejects(
    forwardToVm({ pod: "ns/vm", state: "Starting" }, {
      port: 80,
      connection: clientConnection(new Uint8Array(0)).stream,
    }, signal),
    (error: unknown) =>
      error instanceof UnavailableError &&
      error.message ===
        "the VM of pod ns/vm has no IP yet (state Starting): expected a running VM with an address",
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assert.rejects(
    forwardToVm({ pod: "ns/vm", ip: "127.0.0.1" }, {
      port,
      connection: clientConnection(new Uint8Array(0)).stream,
    }, signal),
    (error: unknown) =>
      error instanceof UnavailableError &&
      error.message.startsWith(`cannot connect to the VM of pod ns/vm at 127.0.0.1:${port}: `),
  );
});

Deno.test("zstack exec and attach: refused with the advice to SSH to the VM's IP", () => {
  const error = noExecChannel({ pod: "ns/vm", ip: "10.0.0.5" }, "exec");
  assert.ok(error instanceof NotImplementedError);
  assert.equal(
    error.message,
    "pod ns/vm runs as a ZStack VM, which has no exec channel (no container runtime inside): SSH to the VM's IP instead (ssh <user>@10.0.0.5)",
  );
  assert.match(
    noExecChannel({ pod: "ns/vm" }, "attach").message,
    /no attach channel.*once it has one/,
  );
});
