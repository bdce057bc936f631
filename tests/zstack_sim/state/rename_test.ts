import { assertEquals } from "../../_harness/assert.ts";
import { rename } from "./rename.ts";

Deno.test("rename changes the fields given, keeps the others and stamps lastOpDate", () => {
  const resource = { name: "a", description: "old", lastOpDate: new Date(0) };
  rename(resource, { name: "b" });
  assertEquals([resource.name, resource.description], ["b", "old"]);
  rename(resource, { description: "new" });
  assertEquals([resource.name, resource.description], ["b", "new"]);
  assertEquals(resource.lastOpDate.getTime() > 0, true);
});
