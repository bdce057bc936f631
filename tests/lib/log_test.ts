import { assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { configureSync, getLogger, resetSync } from "@logtape/logtape";
import { REDACTED, redactingSink, redactSecrets } from "../../lib/log.ts";

Deno.test("redactSecrets replaces tokens, passwords and keys at any depth", () => {
  const out = redactSecrets({
    user: "admin",
    token: "abc",
    nested: { Authorization: "Bearer x", list: [{ password: "p", keep: 1 }] },
    clientKeyData: "kept: name does not say private key",
    privateKey: "k",
  });
  assertEquals(out, {
    user: "admin",
    token: REDACTED,
    nested: { Authorization: REDACTED, list: [{ password: REDACTED, keep: 1 }] },
    clientKeyData: "kept: name does not say private key",
    privateKey: REDACTED,
  });
});

for (const format of ["text", "json"] as const) {
  Deno.test(`${format} log lines never contain a secret passed as a property`, () => {
    const lines: string[] = [];
    configureSync({
      reset: true,
      sinks: { mem: redactingSink(format, (line) => lines.push(line)) },
      loggers: [
        { category: ["vkedge"], lowestLevel: "debug", sinks: ["mem"] },
        { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mem"] },
      ],
    });
    try {
      getLogger(["vkedge", "test"]).info("login as {user} with {token}", {
        user: "alice",
        token: "s3cr3t-value",
      });
    } finally {
      resetSync();
    }
    assertEquals(lines.length, 1);
    assertStringIncludes(lines[0], "alice");
    assertEquals(lines[0].includes("s3cr3t-value"), false);
    if (format === "json") {
      const parsed = JSON.parse(lines[0]);
      assertEquals(parsed.level, "INFO");
      assertEquals(parsed.fields.token, REDACTED);
    }
  });
}

Deno.test("json log lines carry the context (the node) and the record's own keys (the pod)", () => {
  const lines: string[] = [];
  configureSync({
    reset: true,
    sinks: {
      mem: redactingSink("json", (line) => lines.push(line), { context: { node: "edge-1" } }),
    },
    loggers: [{ category: ["vkedge"], lowestLevel: "info", sinks: ["mem"] }],
  });
  try {
    getLogger(["vkedge", "pods"]).info("pod {pod} created in provider {provider}", {
      pod: "default/web",
      provider: "mock",
    });
  } finally {
    resetSync();
  }
  const fields = JSON.parse(lines[0]).fields;
  assertEquals(fields, { node: "edge-1", pod: "default/web", provider: "mock" });
});
