import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { ApiError, HttpError } from "../errors.ts";
import { checkFieldTypes, listParam, Params } from "./params.ts";

Deno.test("the REST layer refuses a JSON type mismatch with 400 in Gson's words", () => {
  const fields = { cpuNum: "int", l3s: "stringList", tags: "map", on: "boolean" } as const;
  checkFieldTypes({ cpuNum: "2", l3s: ["a"], tags: {}, on: "true", other: [1] }, fields);
  checkFieldTypes({ cpuNum: null }, fields);
  const error = assertThrows(() => checkFieldTypes({ cpuNum: 1.5 }, fields), HttpError);
  assertEquals([error.status, error.message], [
    400,
    "[cpuNum] field is excepted an int or long, but was [1.5].",
  ]);
  assertThrows(() => checkFieldTypes({ l3s: "a" }, fields), HttpError, "excepted a list");
  assertThrows(() => checkFieldTypes({ tags: [] }, fields), HttpError, "excepted a map");
  assertThrows(() => checkFieldTypes({ on: "yes" }, fields), HttpError, "but was [yes]");
  assertThrows(
    () => checkFieldTypes({ sizes: [1, "x"] }, { sizes: "longList" }),
    HttpError,
    "excepted a list of int or long",
  );
  assertThrows(
    () => checkFieldTypes({ name: { a: 1 } }, { name: "string" }),
    HttpError,
    "a string",
  );
});

Deno.test("parameters read as their type; absent ones are undefined; mandatory ones are SYS.1007", () => {
  const params = new Params({ name: "vm", cpuNum: "2", l3s: ["a", "b"], sizes: ["3"], on: "true" });
  assertEquals(
    params.read({
      name: "string",
      cpuNum: "int",
      l3s: "stringList",
      sizes: "longList",
      on: "boolean",
      gone: "string",
    }),
    { name: "vm", cpuNum: 2, l3s: ["a", "b"], sizes: [3], on: true, gone: undefined },
  );
  assertEquals(params.requiredNumber("cpuNum", "Api"), 2);
  const missing = assertThrows(() => params.requiredString("image", "org.zstack.Api"), ApiError);
  assertEquals(
    missing.error.details,
    "field[image] of message[org.zstack.Api] is mandatory, can not be null",
  );
});

Deno.test("list parameters of GET calls come repeated, comma-separated or as key.N", () => {
  const query = new URLSearchParams("hostUuids=a,b&hostUuids=c&hostUuids.0=d&hostUuids.1=&other=x");
  assertEquals(listParam(query, "hostUuids"), ["a", "b", "c", "d"]);
  assertEquals(listParam(query, "zoneUuids"), []);
});
