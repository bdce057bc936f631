import { assertEquals } from "../../_harness/assert.ts";
import { OwnWrites } from "../../../lib/kube/mod.ts";

const at = (resourceVersion: string) => ({ metadata: { resourceVersion } });

Deno.test("OwnWrites: every version a write was based on is stale until the cache moves past them", () => {
  const writes = new OwnWrites();
  assertEquals(writes.isStale("ns/a", at("1")), false, "nothing written yet");
  // Progressing written on top of 1 (gives 2), then Complete on top of 2 (gives 3).
  writes.replaced("ns/a", at("1"));
  writes.replaced("ns/a", at("2"));
  assertEquals(writes.isStale("ns/a", at("1")), true);
  assertEquals(writes.isStale("ns/a", at("2")), true, "the watch has not brought 3 yet");
  assertEquals(writes.isStale("ns/b", at("2")), false, "other keys are not affected");
  assertEquals(writes.size, 1);
  assertEquals(writes.isStale("ns/a", at("3")), false, "the cache caught up");
  assertEquals(writes.size, 0, "and the key is forgotten");
  assertEquals(writes.isStale("ns/a", at("2")), false, "forgotten versions are not remembered");
});

Deno.test("OwnWrites: objects without a resourceVersion and deleted keys", () => {
  const writes = new OwnWrites();
  writes.replaced("ns/a", {});
  assertEquals(writes.size, 0, "a base without a version records nothing");
  writes.replaced("ns/a", at("5"));
  writes.forget("ns/a");
  assertEquals(writes.isStale("ns/a", at("5")), false);
  assertEquals(writes.size, 0);
});
