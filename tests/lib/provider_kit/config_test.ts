import { z } from "zod";
import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { parseProviderConfig, readSecret } from "../../../lib/provider_kit/mod.ts";

const schema = z.object({ endpoint: z.url(), pollSeconds: z.number().positive().default(5) })
  .strict();

Deno.test("provider config: text or objects, defaults applied, every bad field named", () => {
  assertEquals(
    parseProviderConfig(schema, "endpoint: http://x\n", { provider: "demo" }),
    { endpoint: "http://x", pollSeconds: 5 },
  );
  assertEquals(
    parseProviderConfig(schema, { endpoint: "http://x", pollSeconds: 1 }, { provider: "demo" })
      .pollSeconds,
    1,
  );
  const error = assertThrows(
    () =>
      parseProviderConfig(schema, { endpoint: "nope", pollSeconds: -1, extra: 1 }, {
        provider: "demo",
      }),
    InvalidInputError,
  );
  assertEquals(error.message.startsWith("demo provider config: "), true);
  for (const field of ['field "endpoint"', 'field "pollSeconds"', "extra"]) {
    assertEquals(error.message.includes(field), true, `${field} in ${error.message}`);
  }
  assertThrows(
    () => parseProviderConfig(schema, "a: [", { provider: "demo" }),
    InvalidInputError,
    "YAML or JSON",
  );
  assertThrows(
    () => parseProviderConfig(schema, undefined, { provider: "demo", required: "endpoint" }),
    InvalidInputError,
    "expected a file given with --provider-config (endpoint), found none",
  );
  // Without `required`, no configuration means every default (here: a missing endpoint).
  assertThrows(
    () => parseProviderConfig(schema, undefined, { provider: "demo" }),
    InvalidInputError,
    "endpoint",
  );
});

Deno.test("provider config secrets: from a file (one line break dropped) or a variable, never empty", async () => {
  const sources = {
    readTextFile: (path: string) =>
      path === "/secret"
        ? Promise.resolve("s3cret\n")
        : path === "/empty"
        ? Promise.resolve("\n")
        : Promise.reject(new Error("No such file")),
    getEnv: (name: string) => (name === "SET" ? "from-env" : name === "EMPTY" ? "" : undefined),
  };
  assertEquals(
    await readSecret({ file: "/secret" }, { provider: "demo", field: "auth.password", sources }),
    "s3cret",
  );
  assertEquals(
    await readSecret({ env: "SET" }, { provider: "demo", field: "auth.password", sources }),
    "from-env",
  );
  assertEquals(
    await readSecret({ value: "inline" }, { provider: "demo", field: "auth.id", sources }),
    "inline",
  );
  await assertRejects(
    () => readSecret({ file: "/missing" }, { provider: "demo", field: "auth.password", sources }),
    InvalidInputError,
    'field "auth.passwordFile": expected a readable file, found No such file for /missing',
  );
  await assertRejects(
    () => readSecret({ file: "/empty" }, { provider: "demo", field: "auth.password", sources }),
    InvalidInputError,
    "expected a non-empty file",
  );
  await assertRejects(
    () => readSecret({ env: "EMPTY" }, { provider: "demo", field: "auth.password", sources }),
    InvalidInputError,
    "expected environment variable EMPTY to be set, found it empty",
  );
  await assertRejects(
    () => readSecret({ env: "UNSET" }, { provider: "demo", field: "auth.password", sources }),
    InvalidInputError,
    "found it unset",
  );
});
