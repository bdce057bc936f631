import { assert, assertEquals, assertStringIncludes, assertThrows } from "../_harness/assert.ts";
import { stampCommit } from "../../scripts/build/bundle.ts";
import { integrityOf, RUNTIME_INTEGRITY } from "../../scripts/build/deno_runtime.ts";
import { cacheId, launcherHeader, writeLauncher } from "../../scripts/build/launcher.ts";
import { COMMIT_STAMP } from "../../lib/version.ts";

const hostArch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";

/** A stand-in for the Deno binary: prints what it was started with. */
const FAKE_DENO = `#!/bin/sh
echo "args: $*"
echo "DENO_DIR=$DENO_DIR"
`;

async function launch(file: string, env: Record<string, string>, args: string[] = []) {
  const out = await new Deno.Command(file, {
    args,
    env: { PATH: "/usr/bin:/bin", ...env },
    clearEnv: true,
    cwd: await Deno.makeTempDir(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function fixture(arch = hostArch) {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-launcher-test-" });
  await Deno.writeTextFile(`${dir}/deno`, FAKE_DENO);
  await Deno.writeTextFile(`${dir}/vkedge.js`, "console.log('agent');\n");
  const file = `${dir}/vkedge-linux-${arch}`;
  const info = await writeLauncher(file, { deno: `${dir}/deno`, bundle: `${dir}/vkedge.js` }, {
    version: "9.9.9",
    commit: "abc123",
    denoVersion: "2.9.6",
    arch,
  });
  return { dir, file, info };
}

Deno.test("launcher: the first start unpacks into the cache folder once, later starts run from it with the agent's V8 flags, flags passed on", async () => {
  const { dir, file, info } = await fixture();
  const cache = `${dir}/cache`;
  const first = await launch(file, { XDG_CACHE_HOME: cache }, ["--provider=mock", "a b"]);
  assertEquals(first.code, 0, first.stderr);
  const unpacked = `${cache}/vkedge/${cacheId(info)}`;
  assertStringIncludes(
    first.stdout,
    `args: run -A --v8-flags=--max-semi-space-size=1,--optimize-for-size --no-config --no-lock --no-remote --quiet ${unpacked}/vkedge.js --provider=mock a b`,
  );
  assertStringIncludes(first.stdout, `DENO_DIR=${unpacked}/deno-dir`);
  const marker = await Deno.stat(`${unpacked}/.verified`);
  await Deno.remove(`${unpacked}/vkedge.js`); // a second start must not unpack again
  const second = await launch(file, { HOME: `${dir}/home`, XDG_CACHE_HOME: cache });
  assertEquals(second.code, 0, second.stderr);
  assertEquals((await Deno.stat(`${unpacked}/.verified`)).mtime, marker.mtime);
  const entries = [...Deno.readDirSync(`${cache}/vkedge`)].map((e) => e.name);
  assertEquals(entries, [cacheId(info)], "no temporary folder is left behind");
  const viaHome = await launch(file, { HOME: `${dir}/home` });
  assertEquals(viaHome.code, 0, viaHome.stderr);
  assert((await Deno.stat(`${dir}/home/.cache/vkedge/${cacheId(info)}/deno`)).isFile);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launcher: a damaged file is refused before anything runs, and leaves nothing in the cache", async () => {
  const { dir, file } = await fixture();
  const bytes = await Deno.readFile(file);
  bytes[bytes.length - 40] ^= 0xff;
  await Deno.writeFile(file, bytes);
  const result = await launch(file, { XDG_CACHE_HOME: `${dir}/cache` });
  assertEquals(result.code, 1);
  assertStringIncludes(result.stderr, "is damaged (payload checksum mismatch): download it again");
  assertEquals([...Deno.readDirSync(`${dir}/cache/vkedge`)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launcher: the file for another architecture says which one to take", async () => {
  const other = hostArch === "x86_64" ? "aarch64" : "x86_64";
  const { dir, file } = await fixture(other);
  const result = await launch(file, { XDG_CACHE_HOME: `${dir}/cache` });
  assertEquals(result.code, 1);
  assertStringIncludes(
    result.stderr,
    `this file runs vkedge on Linux ${other}, this host is Linux ${hostArch}: take the file for ${hostArch}`,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("launcher header: the offset it carries is its own length", () => {
  const header = launcherHeader({
    version: "1.0.0",
    commit: "c",
    denoVersion: "2.9.6",
    arch: "x86_64",
    sha256: { payload: "a".repeat(64), deno: "b".repeat(64), bundle: "c".repeat(64) },
  });
  const offset = Number(/^offset=(\d+)$/m.exec(header)?.[1]);
  assertEquals(offset, new TextEncoder().encode(header).length);
});

Deno.test("bundle stamp: the commit replaces the placeholder; a bundle without one is refused", () => {
  assertEquals(
    stampCommit(`const a = "${COMMIT_STAMP}";`, "3f2c1ab"),
    `const a = "vkedge-commit:3f2c1ab";`,
  );
  assertThrows(() => stampCommit("const a = 1;", "x"), Error, "expected the commit placeholder");
});

Deno.test("runtime integrity: SRI sha512 of the bytes, pinned for both targets of the Deno the Makefile installs", async () => {
  assertEquals(
    await integrityOf(new TextEncoder().encode("abc")),
    "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==",
  );
  const makefile = await Deno.readTextFile(new URL("../../Makefile", import.meta.url));
  const version = /^DENO_VERSION := (\S+)$/m.exec(makefile)?.[1] ?? "";
  assertEquals(Object.keys(RUNTIME_INTEGRITY[version] ?? {}).sort(), [
    "@deno/linux-arm64-glibc",
    "@deno/linux-x64-glibc",
  ]);
});
