import { assertEquals, assertMatch } from "../_harness/assert.ts";
import { COMMIT, COMMIT_STAMP, commitOfStamp, VERSION, versionLine } from "../../lib/version.ts";

Deno.test("version: the source is unstamped, so its commit is unknown; a stamped bundle names its commit", () => {
  assertEquals(COMMIT_STAMP, "vkedge-commit:unstamped");
  assertEquals(COMMIT, "unknown");
  assertEquals(commitOfStamp("vkedge-commit:3f2c1ab0d9e4"), "3f2c1ab0d9e4");
  assertEquals(commitOfStamp("vkedge-commit:"), "unknown");
});

Deno.test("version: the line names version, commit and the Deno it runs on", () => {
  assertEquals(versionLine(), `vkedge ${VERSION} (commit unknown, deno ${Deno.version.deno})`);
  assertMatch(versionLine(), /^vkedge \d+\.\d+\.\d+ \(commit \S+, deno \d+\.\d+\.\d+\)$/);
});
