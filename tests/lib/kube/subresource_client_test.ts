import { assertEquals } from "../../_harness/assert.ts";
import { PODS, ResourceClient, SubresourceClient } from "../../../lib/kube/mod.ts";
import { FakeSender } from "./_fake_sender.ts";

Deno.test("SubresourceClient sends raw verbs to its path; POST is not retried, PUT is", async () => {
  const sender = new FakeSender();
  sender.answer = () => "log line";
  const log = new ResourceClient(sender, PODS, "ns").subresource("web", "log");
  assertEquals(log.path, "/api/v1/namespaces/ns/pods/web/log");
  assertEquals(await log.getText({ query: { container: "app", tailLines: 10 } }), "log line");
  const eviction = new SubresourceClient(sender, "/api/v1/namespaces/ns/pods/web/eviction");
  await eviction.post({ kind: "Eviction" });
  await eviction.put({ kind: "Scale" });
  await eviction.get();
  assertEquals(
    sender.requests.map((r) => [r.method, r.path, r.idempotent]),
    [
      ["GET", "/api/v1/namespaces/ns/pods/web/log", undefined],
      ["POST", "/api/v1/namespaces/ns/pods/web/eviction", false],
      ["PUT", "/api/v1/namespaces/ns/pods/web/eviction", true],
      ["GET", "/api/v1/namespaces/ns/pods/web/eviction", undefined],
    ],
  );
  assertEquals(sender.requests[0].query, { container: "app", tailLines: 10 });
  assertEquals(sender.requests[1].body, { kind: "Eviction" });
});
