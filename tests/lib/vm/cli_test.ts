import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { parseVmCommand, VmUsageError } from "../../../lib/vm/cli.ts";

Deno.test("vkedge vm: commands parse with their flags", () => {
  const stop = parseVmCommand(["stop", "web", "-n", "edge", "--force", "--wait", "--timeout=30s"]);
  assertEquals(stop?.verb, "stop");
  assertEquals(stop?.namespace, "edge");
  assertEquals(stop?.force, true);
  assertEquals(stop?.timeoutMs, 30_000);
  assertEquals(parseVmCommand(["restore", "web", "--snapshot", "s1"])?.snapshot, "s1");
  assertEquals(parseVmCommand(["migrate", "web", "--target-host=h2"])?.targetHost, "h2");
  assertEquals(parseVmCommand(["--help"]), undefined);
});

Deno.test("vkedge vm: bad command lines say what is wrong", () => {
  const cases: [string[], string][] = [
    [["frob", "web"], "expected one of start, stop"],
    [["stop"], "expected a command and a VirtualMachine name"],
    [["stop", "Web_1"], "NAME: expected a lowercase DNS name"],
    [["restore", "web"], "--snapshot=NAME is required"],
    [["start", "web", "--force"], "--force applies to stop and restart"],
    [["stop", "web", "--target-host=h"], "--target-host applies to migrate only"],
    [["stop", "web", "--timeout=soon"], "--timeout: expected a duration"],
    [["stop", "web", "--bogus"], "bogus"],
  ];
  for (const [args, expected] of cases) {
    const error = assertThrows(() => parseVmCommand(args), VmUsageError);
    assertEquals(error.message.includes(expected), true, `${args.join(" ")}: ${error.message}`);
  }
});
