import assert from "node:assert/strict";
import { parseLogQuery } from "../../../lib/kubelet_api/logs.ts";
import { HttpError } from "../../../lib/kubelet_api/http_errors.ts";

Deno.test("log query parameters become provider options", () => {
  const options = parseLogQuery(
    new URLSearchParams(
      "tailLines=10&follow=true&limitBytes=500&timestamps=1&previous=false&sinceTime=2030-01-01T00:00:00Z",
    ),
  );
  assert.deepEqual(options, {
    tail: 10,
    follow: true,
    limitBytes: 500,
    timestamps: true,
    sinceTime: new Date("2030-01-01T00:00:00Z"),
  });
  assert.deepEqual(parseLogQuery(new URLSearchParams("")), {});
  assert.deepEqual(parseLogQuery(new URLSearchParams("sinceSeconds=30&tailLines=0")), {
    sinceSeconds: 30,
    tail: 0,
  });
});

Deno.test("invalid log query parameters are a 400 naming the parameter and the value", () => {
  const cases: Array<[string, RegExp]> = [
    ["tailLines=-1", /"tailLines": expected an integer >= 0, found "-1"/],
    ["tailLines=ten", /"tailLines".*found "ten"/],
    ["limitBytes=0", /"limitBytes": expected an integer >= 1, found "0"/],
    ["sinceSeconds=0", /"sinceSeconds"/],
    ["follow=yes", /"follow": expected true or false, found "yes"/],
    ["sinceTime=yesterday", /"sinceTime": expected an RFC 3339 time/],
    [
      "sinceSeconds=5&sinceTime=2030-01-01T00:00:00Z",
      /at most one of "sinceSeconds" and "sinceTime"/,
    ],
  ];
  for (const [query, pattern] of cases) {
    assert.throws(() => parseLogQuery(new URLSearchParams(query)), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    });
  }
});
