import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { UnavailableError } from "../../../lib/provider.ts";
import { declaredPorts, echoPortForward } from "../../../providers/mock/port_forward.ts";

const pod: Pod = {
  metadata: { namespace: "ns", name: "web" },
  spec: {
    containers: [
      { name: "a", ports: [{ containerPort: 80 }, { containerPort: 53, protocol: "UDP" }] },
      { name: "b", ports: [{ containerPort: 8080 }, { containerPort: 80 }] },
    ],
  },
};

function connection(input: Uint8Array[]) {
  const received: Uint8Array[] = [];
  return {
    received,
    stream: {
      readable: new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of input) controller.enqueue(chunk);
          controller.close();
        },
      }),
      writable: new WritableStream<Uint8Array>({ write: (chunk) => void received.push(chunk) }),
    },
  };
}

Deno.test("mock port-forward: the declared TCP ports, each once", () => {
  assert.deepEqual(declaredPorts(pod), [80, 8080]);
});

Deno.test("mock port-forward: a declared port echoes every byte and ends with the client", async () => {
  const chunks = [new Uint8Array([1, 2, 3]), crypto.getRandomValues(new Uint8Array(60_000))];
  const { received, stream } = connection(chunks);
  await echoPortForward(
    () => pod,
    { port: 8080, connection: stream },
    new AbortController().signal,
  );
  assert.deepEqual(received, chunks);
});

Deno.test("mock port-forward: an undeclared port is refused naming the ports that echo", async () => {
  const { stream } = connection([new Uint8Array([1])]);
  await assert.rejects(
    echoPortForward(() => pod, { port: 53, connection: stream }, new AbortController().signal),
    (error: unknown) =>
      error instanceof UnavailableError &&
      error.message ===
        "connection refused: pod ns/web does not listen on port 53 (the mock echoes on its declared containerPorts: 80, 8080)",
  );
});
