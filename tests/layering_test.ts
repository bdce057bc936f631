// The import rules of the runtime, checked over the source: lib/ never imports a
// provider; a provider imports of lib/ only the contract (lib/provider.ts) and the kit
// (lib/provider_kit/mod.ts); providers do not import each other; the ZStack simulator
// imports no provider code.

import { assertEquals } from "./_harness/assert.ts";
import { repoRoot } from "./_harness/cluster.ts";

interface Import {
  from: string;
  to: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${repoRoot}/${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) files.push(path);
  }
  return files;
}

/** Relative imports (static and dynamic) of `file`, resolved to repository paths. */
async function importsOf(file: string): Promise<Import[]> {
  const text = await Deno.readTextFile(`${repoRoot}/${file}`);
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((match) => match[1]).filter((specifier) => specifier.startsWith("."));
  return specifiers.map((specifier) => ({
    from: file,
    to: new URL(specifier, `file:///${file}`).pathname.slice(1),
  }));
}

async function allImports(dir: string): Promise<Import[]> {
  const imports: Import[] = [];
  for (const file of await sourceFiles(dir)) imports.push(...await importsOf(file));
  return imports;
}

function describe(imports: Import[]): string[] {
  return imports.map(({ from, to }) => `${from} imports ${to}`);
}

Deno.test("layering: lib/ never imports a provider", async () => {
  const bad = (await allImports("lib")).filter(({ to }) => to.startsWith("providers/"));
  assertEquals(describe(bad), []);
});

Deno.test("layering: a provider imports of lib/ only the contract and the provider kit", async () => {
  const allowed = new Set(["lib/provider.ts", "lib/provider_kit/mod.ts"]);
  const imports = await allImports("providers");
  const bad = imports.filter(({ from, to }) => {
    if (to.startsWith("lib/")) return !allowed.has(to);
    if (from === "providers/mod.ts") return false; // the registry loads every provider
    const [, own] = from.split("/");
    return to.startsWith("providers/") && !to.startsWith(`providers/${own}/`);
  });
  assertEquals(describe(bad), []);
  // The check reads real imports: every provider does use the contract.
  for (const provider of ["kubernetes", "mock", "zstack"]) {
    const used = imports.some(({ from, to }) =>
      from.startsWith(`providers/${provider}/`) && to === "lib/provider.ts"
    );
    assertEquals(used, true, `providers/${provider} imports lib/provider.ts`);
  }
});

Deno.test("layering: the ZStack simulator imports no provider code", async () => {
  const bad = (await allImports("tests/zstack_sim")).filter(({ to }) =>
    to.startsWith("providers/")
  );
  assertEquals(describe(bad), []);
});
