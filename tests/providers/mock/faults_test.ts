import assert from "node:assert/strict";
import { Faults } from "../../../providers/mock/faults.ts";
import { isRetryable, UnavailableError } from "../../../lib/provider.ts";

async function withFaultFile(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-faults-" });
  try {
    await body(`${dir}/faults`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("without a fault file, or while it is missing, no fault is active", async () => {
  assert.deepEqual(await new Faults(undefined).activeFaults(), new Set());
  await withFaultFile(async (path) => {
    const faults = new Faults(path);
    assert.deepEqual(await faults.activeFaults(), new Set());
    await faults.checkPing();
    await faults.failIfInjected("create", "creating pod default/web");
  });
});

Deno.test("the fault file names faults in any case, separated by blanks or commas", async () => {
  await withFaultFile(async (path) => {
    const faults = new Faults(path);
    await Deno.writeTextFile(path, "PING,create\n  delete unknown\n");
    assert.deepEqual(await faults.activeFaults(), new Set(["ping", "create", "delete"]));
    await Deno.writeTextFile(path, "Power snapshot,migrate");
    assert.deepEqual(await faults.activeFaults(), new Set(["power", "snapshot", "migrate"]));
    await Deno.writeTextFile(path, "PING,create\n  delete unknown\n");
    await assert.rejects(
      faults.failIfInjected("create", "creating pod default/web"),
      (error: unknown) => {
        assert.ok(error instanceof UnavailableError);
        assert.equal(isRetryable(error), true);
        assert.equal(
          error.message,
          `mock provider: fault injected by ${path}: creating pod default/web fails while the file contains "create"`,
        );
        return true;
      },
    );
    await faults.failIfInjected("update", "updating pod default/web");
    await assert.rejects(faults.checkPing(), /ping fails while the file contains "ping"/);
  });
});

Deno.test("setHealthy(false) fails the ping check until set healthy again", async () => {
  const faults = new Faults(undefined);
  faults.setHealthy(false);
  await assert.rejects(faults.checkPing(), (error: unknown) => {
    assert.ok(error instanceof UnavailableError);
    assert.match(error.message, /marked unhealthy by setHealthy\(false\)/);
    return true;
  });
  faults.setHealthy(true);
  await faults.checkPing();
});
