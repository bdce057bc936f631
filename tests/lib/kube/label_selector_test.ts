import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { LabelSelectorError, parseLabelSelector } from "../../../lib/kube/label_selector.ts";

Deno.test("label selectors: equality, inequality, existence and sets, all of them must match", () => {
  const labels = { app: "web", tier: "front", "example.com/zone": "a" };
  const cases: [string, boolean][] = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["tier", true],
    ["!tier", false],
    ["!missing", true],
    ["app in (web, db)", true],
    ["app notin (web,db)", false],
    ["missing notin (a)", true],
    ["app=web,tier=front", true],
    ["app=web,tier=back", false],
    ["example.com/zone=a", true],
    ["app in (web,db),example.com/zone", true],
  ];
  for (const [selector, expected] of cases) {
    assertEquals(parseLabelSelector(selector)(labels), expected, selector);
  }
  assertEquals(parseLabelSelector("app")(undefined), false);
});

Deno.test("label selectors: malformed ones name the bad term", () => {
  for (
    const [selector, part] of [["app=web,,x", "empty term"], [
      "a b=c",
      '"a b=c" is not a label key',
    ], [
      "app=we b",
      "app=we b",
    ]]
  ) {
    const error = assertThrows(() => parseLabelSelector(selector), LabelSelectorError);
    assertEquals(error.message.includes(part), true, `${selector}: ${error.message}`);
  }
});
