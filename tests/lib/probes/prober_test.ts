// One probe attempt of each handler: through the mock's PodDialer and exec, and dialled
// straight to a server on the loopback, with the kubelet's messages on failure.

import assert from "node:assert/strict";
import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { MockProvider, parseMockConfig } from "../../../providers/mock/mod.ts";
import { type ProbeKind, probeSpecOf, runProbeAttempt } from "../../../lib/probes/mod.ts";
import { NotImplementedError, type Provider } from "../../../lib/provider.ts";

const signal = new AbortController().signal;

function mock(stop: AbortController): MockProvider {
  return new MockProvider(parseMockConfig({}), {
    nodeName: "n",
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    daemonPort: 10250,
    signal: stop.signal,
  });
}

const container: Container = {
  name: "app",
  image: "nginx",
  ports: [{ name: "http", containerPort: 8080 }, { containerPort: 9090 }],
};

function podWith(annotations: Record<string, string> = {}, extra: Partial<Container> = {}): Pod {
  return {
    metadata: { namespace: "ns", name: "web", uid: "u1", annotations },
    spec: { containers: [{ ...container, ...extra }] },
    status: { podIP: "10.233.0.9" },
  };
}

async function attempt(
  provider: Provider,
  pod: Pod,
  probe: Container["readinessProbe"],
  kind: ProbeKind = "readiness",
) {
  const spec = probeSpecOf({ ...pod.spec!.containers[0], [`${kind}Probe`]: probe }, kind)!;
  return await runProbeAttempt({ provider, pod, container: "app" }, spec, signal);
}

Deno.test("probe httpGet through the mock: a named port passes at 200, fails at 503 as the kubelet says", async () => {
  const stop = new AbortController();
  const provider = mock(stop);
  try {
    await provider.createPod(podWith({ "mock.vkedge.io/http-status-8080": "503" }), signal);
    const pod = (await provider.getPod("ns", "web", signal))!;
    assert.deepEqual(await attempt(provider, pod, { httpGet: { port: "http", path: "/ready" } }), {
      result: "failure",
      message: "HTTP probe failed with statuscode: 503",
    });
    assert.deepEqual(await attempt(provider, pod, { httpGet: { port: 9090 } }), {
      result: "success",
      message: "",
    });
    const unknown = await attempt(provider, pod, { httpGet: { port: "metrics" } });
    assert.equal(unknown.result, "error");
    assert.match(unknown.message, /strconv.Atoi: parsing "metrics": invalid syntax/);
  } finally {
    stop.abort();
  }
});

Deno.test("probe tcpSocket and grpc through the mock: SERVING passes, NOT_SERVING and closed ports fail", async () => {
  const stop = new AbortController();
  const provider = mock(stop);
  try {
    await provider.createPod(podWith({ "mock.vkedge.io/http-status-9090": "500" }), signal);
    const pod = (await provider.getPod("ns", "web", signal))!;
    assert.equal((await attempt(provider, pod, { tcpSocket: { port: 8080 } })).result, "success");
    const closed = await attempt(provider, pod, { tcpSocket: { port: 7000 } });
    assert.equal(closed.result, "failure");
    assert.match(
      closed.message,
      /^dial tcp [0-9.]+:7000: connection refused: pod ns\/web does not listen/,
    );
    assert.deepEqual(await attempt(provider, pod, { grpc: { port: 8080 } }), {
      result: "success",
      message: "",
    });
    assert.deepEqual(await attempt(provider, pod, { grpc: { port: 9090 } }), {
      result: "failure",
      message: 'service unhealthy (responded with "NOT_SERVING")',
    });
  } finally {
    stop.abort();
  }
});

Deno.test("probe exec through the mock: exit 0 passes, a failure carries the output", async () => {
  const stop = new AbortController();
  const provider = mock(stop);
  try {
    await provider.createPod(podWith({}, { command: ["sh", "-c", "sleep infinity"] }), signal);
    const pod = (await provider.getPod("ns", "web", signal))!;
    assert.deepEqual(await attempt(provider, pod, { exec: { command: ["cat", "/tmp/healthy"] } }), {
      result: "failure",
      message: "cat: /tmp/healthy: No such file or directory",
    });
    await provider.runInContainer({ namespace: "ns", pod: "web", container: "app" }, {
      command: ["touch", "/tmp/healthy"],
      streams: { tty: false },
    }, signal);
    assert.equal(
      (await attempt(provider, pod, { exec: { command: ["cat", "/tmp/healthy"] } })).result,
      "success",
    );
    const slow = await attempt(provider, pod, {
      exec: { command: ["sleep", "5"] },
      timeoutSeconds: 1,
    });
    assert.deepEqual(slow, { result: "failure", message: 'command "sleep 5" timed out' });
  } finally {
    stop.abort();
  }
});

/** A provider without a dialer or exec: probes dial the pod IP (here: host) themselves. */
const plain = { name: "plain" } as unknown as Provider;

Deno.test("probe httpGet dialled by the agent: the kubelet's headers, status, refusal and timeout", async () => {
  const seen: Headers[] = [];
  let status = 200;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(request.headers);
    if (new URL(request.url).pathname === "/slow") {
      return new Promise((resolve) => setTimeout(() => resolve(new Response("late")), 1_500));
    }
    return new Response("body", { status });
  });
  const port = server.addr.port;
  const pod = podWith();
  try {
    const probe = {
      httpGet: {
        host: "127.0.0.1",
        port,
        path: "healthz",
        httpHeaders: [{ name: "X-Check", value: "1" }],
      },
    };
    assert.equal((await attempt(plain, pod, probe)).result, "success");
    assert.equal(seen[0].get("user-agent"), "kube-probe/1.36");
    assert.equal(seen[0].get("x-check"), "1");
    status = 302;
    assert.equal((await attempt(plain, pod, probe)).result, "success");
    status = 404;
    assert.deepEqual(await attempt(plain, pod, probe), {
      result: "failure",
      message: "HTTP probe failed with statuscode: 404",
    });
    const slow = await attempt(plain, pod, {
      httpGet: { host: "127.0.0.1", port, path: "/slow" },
      timeoutSeconds: 1,
    });
    assert.equal(
      slow.message,
      `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    );
  } finally {
    await server.shutdown();
  }
  const refused = await attempt(plain, pod, { httpGet: { host: "127.0.0.1", port, path: "/" } });
  assert.equal(
    refused.message,
    `Get "http://127.0.0.1:${port}/": dial tcp 127.0.0.1:${port}: connect: connection refused`,
  );
});

Deno.test("probe exec on a provider without exec is unsupported, never passed", async () => {
  const outcome = await attempt(plain, podWith(), { exec: { command: ["true"] } });
  assert.deepEqual(outcome, {
    result: "error",
    message: "provider plain cannot run commands in containers, so exec probes cannot run",
    unsupported: true,
  });
});

Deno.test("probe tcpSocket through a dialer that cannot reach the pod's network is unsupported", async () => {
  const refusing = {
    name: "far",
    dialPod: () =>
      Promise.reject(new NotImplementedError("far provider: pods live on another network")),
  } as unknown as Provider;
  assert.deepEqual(await attempt(refusing, podWith(), { tcpSocket: { port: 8080 } }), {
    result: "error",
    message: "far provider: pods live on another network",
    unsupported: true,
  });
});
