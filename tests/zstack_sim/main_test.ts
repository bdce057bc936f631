import { assertEquals, assertMatch } from "../_harness/assert.ts";
import { Client } from "./_client.ts";
import type { Simulator } from "./mod.ts";

Deno.test("the CLI serves a seeded simulator under /zstack on --port and stops on SIGTERM", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("./main.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--job-duration",
      "20",
      "--vm-boot",
      "50",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    printed += value;
  }
  const url = printed.trim();
  assertEquals(url, `http://127.0.0.1:${port}/zstack`);

  const client = new Client({ url } as Simulator);
  assertEquals((await client.login()).status, 200);
  const created = await client.createVm("from-cli");
  assertEquals(created.body.inventory.state, "Running");
  assertMatch(created.body.inventory.vmNics[0].ip, /^192\.168\.100\.\d+$/);

  child.kill("SIGTERM");
  const status = await child.status;
  await reader.cancel();
  assertEquals(status.code, 0);
});
