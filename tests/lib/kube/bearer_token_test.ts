import { assertEquals } from "../../_harness/assert.ts";
import { BearerToken } from "../../../lib/kube/bearer_token.ts";

Deno.test("BearerToken sends the configured token, or none", async () => {
  assertEquals(await new BearerToken({ token: "t" }).get(), "t");
  assertEquals(await new BearerToken({}).get(), undefined);
});

Deno.test("BearerToken reads the token file once a minute, again after invalidate, keeping the last on failure", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "first\n");
    const token = new BearerToken({ tokenFile: file, token: "fallback" });
    assertEquals(await token.get(), "first");
    await Deno.writeTextFile(file, "second\n");
    assertEquals(await token.get(), "first");
    token.invalidate();
    assertEquals(await token.get(), "second");
    await Deno.remove(file);
    token.invalidate();
    assertEquals(await token.get(), "fallback");
    const missing = new BearerToken({ tokenFile: `${dir}/none` });
    assertEquals(await missing.get(), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
