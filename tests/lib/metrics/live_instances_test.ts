import { assertEquals } from "../../_harness/assert.ts";
import { LiveInstances } from "../../../lib/metrics/mod.ts";

Deno.test("LiveInstances yields what was added and not removed, each once", () => {
  const live = new LiveInstances<{ id: string }>();
  const a = { id: "a" };
  const b = { id: "b" };
  live.add(a);
  live.add(b);
  live.add(a);
  assertEquals([...live].map((x) => x.id), ["a", "b"]);
  live.delete(a);
  live.delete({ id: "never added" });
  assertEquals([...live].map((x) => x.id), ["b"]);
  live.add(a);
  assertEquals([...live].map((x) => x.id).sort(), ["a", "b"]);
});
