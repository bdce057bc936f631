// The pod controller in this process against the real API server, with the mock provider:
// what it writes for pods that start, counted from every request it sends.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../../_harness/assert.ts";
import { freshNamespace, kubectlResult } from "../../_harness/cluster.ts";
import { isRunning } from "../../_harness/pods.ts";
import { PODS, SharedInformerFactory } from "../../../lib/kube/mod.ts";
import { EventRecorder } from "../../../lib/events.ts";
import { PodController } from "../../../lib/pods/pod_controller.ts";
import { MockProvider, parseMockConfig } from "../../../providers/mock/mod.ts";
import { adminClient } from "../kube/_e2e.ts";

/** A request as sent: method, path, and for an Event the object it is about. */
interface Sent {
  method: string;
  path: string;
  about?: string;
}

/** Every request sent through `fetch` while `fn` runs, in order. */
async function recordingRequests<R>(fn: (sent: Sent[]) => Promise<R>): Promise<R> {
  const sent: Sent[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    sent.push({
      method: init?.method ?? "GET",
      path: url.pathname,
      about: body?.involvedObject?.name,
    });
    return original(input, init);
  };
  try {
    return await fn(sent);
  } finally {
    globalThis.fetch = original;
  }
}

Deno.test("pods that start cost one status write each (Pending to Running) and one event, sent after it", async () => {
  const namespace = await freshNamespace("pod-writes");
  const nodeName = `pod-writes-${Date.now().toString(36)}`;
  const count = 30;
  const client = await adminClient({ qps: 500, burst: 1000 });
  const stop = new AbortController();
  const provider = new MockProvider(parseMockConfig({ capacity: { pods: "100" } }), {
    nodeName,
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    daemonPort: 10250,
    signal: stop.signal,
  });
  try {
    await recordingRequests(async (sent) => {
      const informers = new SharedInformerFactory(client);
      const events = new EventRecorder(client, { component: "vkedge", host: nodeName });
      const controller = new PodController({ client, provider, informers }, { nodeName, events });
      informers.start(stop.signal);
      const running = controller.start(stop.signal);
      await controller.ready;
      const pods = client.resource<Pod>(PODS, namespace);
      await Promise.all(Array.from({ length: count }, (_, i) =>
        pods.create({
          metadata: { name: `p${i}` },
          spec: { nodeName, containers: [{ name: "app", image: "nginx:1.27" }] },
        })));
      const statusPath = (name: string) => `/api/v1/namespaces/${namespace}/pods/${name}/status`;
      const eventsPath = `/api/v1/namespaces/${namespace}/events`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const listed = await pods.list();
        const posted = sent.filter((r) => r.method === "POST" && r.path === eventsPath).length;
        if (listed.items.filter(isRunning).length === count && posted >= count) break;
        assert(Date.now() < deadline, `pods or events missing: ${posted} events`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000)); // anything more would show
      const statusWrites = sent.filter((r) => r.method === "PATCH" && r.path.endsWith("/status"));
      assertEquals(statusWrites.length, count, "status writes");
      const eventPosts = sent.filter((r) => r.method === "POST" && r.path === eventsPath);
      assertEquals(eventPosts.length, count, "events");
      // Each pod's status write went before its event.
      for (let i = 0; i < count; i++) {
        const write = sent.findIndex((r) => r.method === "PATCH" && r.path === statusPath(`p${i}`));
        const event = sent.findIndex((r) => r.path === eventsPath && r.about === `p${i}`);
        assert(write >= 0 && write < event, `p${i}: its event went before its status write`);
      }
      stop.abort();
      await running;
    });
  } finally {
    stop.abort();
    client.close();
    await kubectlResult(["delete", "namespace", namespace, "--wait=false"]);
  }
});
