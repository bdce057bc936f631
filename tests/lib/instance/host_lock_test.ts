import { assert, assertEquals, assertStringIncludes } from "../../_harness/assert.ts";
import { acquireHostLock, alreadyRunningMessage } from "../../../lib/instance/mod.ts";

Deno.test("host lock: a second lock of the same node is refused and names the holder's pid", async () => {
  const dir = await Deno.makeTempDir();
  const first = await acquireHostLock(`${dir}/locks`, "edge-1");
  assert(first.acquired);
  try {
    const second = await acquireHostLock(`${dir}/locks`, "edge-1");
    assert(!second.acquired);
    assertEquals(second.holder?.pid, Deno.pid);
    assertStringIncludes(
      alreadyRunningMessage("edge-1", second),
      `node edge-1 is already driven from this host (pid ${Deno.pid}, since `,
    );
    const other = await acquireHostLock(`${dir}/locks`, "edge-2");
    assert(other.acquired, "another node's lock is independent");
    other.lock.release();
  } finally {
    first.lock.release();
  }
  const again = await acquireHostLock(`${dir}/locks`, "edge-1");
  assert(again.acquired, "a released lock can be taken again");
  again.lock.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("host lock: the kernel frees the lock of a killed process, and the next holder learns its identity", async () => {
  const dir = await Deno.makeTempDir();
  const script = `
    import { acquireHostLock } from ${
    JSON.stringify(new URL("../../../lib/instance/mod.ts", import.meta.url).href)
  };
    const result = await acquireHostLock(${JSON.stringify(dir)}, "edge-1");
    if (!result.acquired) Deno.exit(3);
    await result.lock.write("host-a_123_cafe");
    console.log("locked");
    setInterval(() => {}, 1000);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertEquals(new TextDecoder().decode(value).trim(), "locked");
  const whileHeld = await acquireHostLock(dir, "edge-1");
  assert(!whileHeld.acquired);
  assertEquals(whileHeld.holder?.identity, "host-a_123_cafe");
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const after = await acquireHostLock(dir, "edge-1");
  assert(after.acquired, "the lock of a killed process is free");
  assertEquals(after.lock.previous?.identity, "host-a_123_cafe");
  after.lock.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("host lock: an unusable folder is an error naming it", async () => {
  const file = await Deno.makeTempFile();
  let message = "";
  try {
    await acquireHostLock(`${file}/sub`, "edge-1");
  } catch (error) {
    message = (error as Error).message;
  }
  assertStringIncludes(message, `--lock-dir: cannot use ${file}/sub/edge-1.lock`);
  await Deno.remove(file);
});
