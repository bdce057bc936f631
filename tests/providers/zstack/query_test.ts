import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import {
  buildQueryString,
  conditionText,
  eq,
  isIn,
  listParameters,
  ne,
  QueryBuildError,
} from "../../../providers/zstack/query.ts";

Deno.test("tag query of a node's VMs reads as in the reference, repeated q ANDed", () => {
  assertEquals(
    buildQueryString({
      conditions: [
        eq("__userTag__", "vkedge.io/node:edge/node-1"),
        eq("type", "UserVm"),
        ne("state", "Destroyed"),
      ],
      limit: 500,
      start: 0,
      replyWithCount: true,
    }),
    "q=__userTag__=vkedge.io/node:edge/node-1&q=type=UserVm&q=state!=Destroyed&limit=500&start=0&replyWithCount=true",
  );
});

Deno.test("IN conditions encode ?= and join values with commas", () => {
  assertEquals(buildQueryString({ conditions: [isIn("uuid", ["a", "b"])] }), "q=uuid%3F=a,b");
});

Deno.test("sort sends + as %2B, fields go comma-joined in one parameter", () => {
  assertEquals(
    buildQueryString({ sort: { field: "createDate", direction: "asc" }, fields: ["uuid", "name"] }),
    "sort=%2BcreateDate&fields=uuid,name",
  );
  assertEquals(buildQueryString({ sort: { field: "name", direction: "desc" } }), "sort=-name");
});

Deno.test("values with %, &, + and spaces are URL-encoded; LIKE keeps its %", () => {
  assertEquals(
    buildQueryString({ conditions: [{ field: "name", op: "~=", value: "web 1+%" }] }),
    "q=name~=web%201%2B%25",
  );
  assertEquals(
    buildQueryString({ conditions: [eq("name", "a&b")] }),
    "q=name=a%26b",
  );
});

Deno.test("a value the server would split on an earlier operator is refused", () => {
  const error = assertThrows(() => conditionText(eq("name", "a!=b")), QueryBuildError);
  assertEquals(
    error.message,
    `query "name=a!=b": expected a value without "!=", which the server would split on first`,
  );
  assertThrows(() => conditionText(eq("description", "x>=1")), QueryBuildError, `">="`);
  // Operators tried after "=" are harmless inside a value.
  assertEquals(conditionText(eq("name", "a>b")), "name=a>b");
});

Deno.test("malformed conditions and paging values are refused with what was found", () => {
  assertThrows(() => conditionText(eq("bad field", "x")), QueryBuildError, `found "bad field"`);
  assertThrows(() => conditionText(isIn("uuid", [])), QueryBuildError, "at least one value");
  assertThrows(() => conditionText(isIn("uuid", ["a,b"])), QueryBuildError, `found "a,b"`);
  assertThrows(() => conditionText({ field: "uuid", op: "=", value: ["a"] }), QueryBuildError);
  assertEquals(conditionText({ field: "hostUuid", op: " is null" }), "hostUuid is null");
  assertThrows(() => buildQueryString({ limit: 0 }), QueryBuildError, "found 0");
  assertThrows(() => buildQueryString({ start: -1 }), QueryBuildError, "found -1");
});

Deno.test("list parameters of the capacity API repeat the key", () => {
  assertEquals(listParameters("hostUuids", ["h1", "h2"]), "hostUuids=h1&hostUuids=h2");
});
