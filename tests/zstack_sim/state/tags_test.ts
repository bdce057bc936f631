import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { freshState, uuidNamed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import {
  checkSystemTag,
  createTag,
  deleteTag,
  deleteTagsOf,
  tagsOf,
  updateSystemTag,
} from "./tags.ts";

function codeOf(fn: () => unknown): string {
  return assertThrows(fn, ApiError).error.code;
}

Deno.test("tags go on existing resources of taggable types only, once per type and text", async () => {
  const state = await freshState();
  const image = uuidNamed(state.images, "cirros");
  const user = { type: "User", resourceType: "ImageVO", resourceUuid: image, tag: "a" } as const;
  createTag(state, user);
  createTag(state, { ...user, type: "System", tag: "hostname::web-1" });
  assertEquals(tagsOf(state, image), { user: ["a"], system: ["hostname::web-1"] });
  assertEquals(codeOf(() => createTag(state, user)), "SYS.1007");
  assertEquals(codeOf(() => createTag(state, { ...user, resourceType: "AccountVO" })), "SYS.1007");
  assertEquals(codeOf(() => createTag(state, { ...user, resourceType: "toString" })), "SYS.1007");
  assertEquals(
    codeOf(() => createTag(state, { ...user, resourceUuid: "f".repeat(32) })),
    "SYS.1003",
  );
  deleteTagsOf(state, image);
  assertEquals(tagsOf(state, image), { user: [], system: [] });
});

Deno.test("system tags must match a known pattern, with base64 userdata and a valid hostname", () => {
  checkSystemTag("userdata::I2Nsb3VkLWNvbmZpZwo=");
  checkSystemTag(`staticIp::${"a".repeat(32)}::10.0.0.5`);
  assertThrows(() => checkSystemTag("color::blue"), ApiError, "no system tag matches");
  assertThrows(() => checkSystemTag("userdata::not base64!"), ApiError, "not a valid base64");
  assertThrows(() => checkSystemTag("hostname::-bad-"), ApiError, "not a valid domain name");
});

Deno.test("UpdateSystemTag changes a system tag only; DeleteTag of a missing uuid succeeds", async () => {
  const state = await freshState();
  const resourceUuid = uuidNamed(state.images, "cirros");
  const base = { resourceType: "ImageVO", resourceUuid } as const;
  const system = createTag(state, { ...base, type: "System", tag: "hostname::a" });
  const user = createTag(state, { ...base, type: "User", tag: "u" });
  assertEquals(updateSystemTag(state, system.uuid, { tag: "hostname::b" }).tag, "hostname::b");
  assertEquals(codeOf(() => updateSystemTag(state, user.uuid, { tag: "hostname::c" })), "SYS.1003");
  assertEquals(codeOf(() => updateSystemTag(state, system.uuid, { tag: "nope" })), "SYS.1007");
  deleteTag(state, user.uuid);
  deleteTag(state, user.uuid);
  system.inherent = true;
  assertEquals(codeOf(() => deleteTag(state, system.uuid)), "SYS.1006");
  assertEquals(tagsOf(state, resourceUuid), { user: [], system: ["hostname::b"] });
});
