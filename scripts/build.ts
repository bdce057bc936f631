/**
 * Builds what the Makefile ships:
 *
 * - `bundle`: dist/vkedge.js, the agent in one file with every provider and the commit
 *   stamped in (`deno run -A dist/vkedge.js`, no deno.json, node_modules or network);
 * - `dist`: dist/vkedge-linux-<arch> for x86_64 and aarch64, each one executable file with
 *   the pinned Deno runtime from the npm registry and the bundle (`launcher.ts`);
 * - `compile`: dist/vkedge with `deno compile`, whose denort runtime comes from Deno's
 *   download server or `DENORT_BIN`, and a clear message when neither works.
 *
 * Usage: `deno run -A scripts/build.ts bundle|dist|compile [--deno-version=X] [--arch=A]
 * [--out-dir=DIR]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { VERSION } from "../lib/version.ts";
import { writeBundle } from "./build/bundle.ts";
import { agentV8FlagsArgument } from "../lib/runtime_flags.ts";
import { DIST_TARGETS, fetchRuntime } from "./build/deno_runtime.ts";
import { run, writeLauncher } from "./build/launcher.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function fail(message: string): never {
  console.error(`scripts/build.ts: ${message}`);
  Deno.exit(1);
}

async function bundle(outDir: string): Promise<string> {
  const output = `${outDir}/vkedge.js`;
  const commit = await writeBundle(root, output);
  console.log(`wrote ${output} (vkedge ${VERSION}, commit ${commit})`);
  return commit;
}

async function dist(outDir: string, denoVersion: string, arches: string[]): Promise<void> {
  const commit = await bundle(outDir);
  const targets = DIST_TARGETS.filter((t) => arches.length === 0 || arches.includes(t.arch));
  if (targets.length === 0) {
    fail(`--arch: expected one of ${DIST_TARGETS.map((t) => t.arch).join(", ")}`);
  }
  for (const target of targets) {
    const deno = await fetchRuntime(target, denoVersion, `${root}/.local/deno-runtime`);
    const output = `${outDir}/vkedge-linux-${target.arch}`;
    const info = await writeLauncher(output, { deno, bundle: `${outDir}/vkedge.js` }, {
      version: VERSION,
      commit,
      denoVersion,
      arch: target.arch,
    });
    const size = (await Deno.stat(output)).size / 2 ** 20;
    console.log(
      `wrote ${output} (${size.toFixed(0)} MiB: Deno ${denoVersion} from ${target.npmPackage}, ` +
        `payload sha256 ${info.sha256.payload.slice(0, 16)}…)`,
    );
  }
}

async function compile(outDir: string): Promise<void> {
  await bundle(outDir);
  const output = `${outDir}/vkedge`;
  const denort = Deno.env.get("DENORT_BIN");
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "-A",
      agentV8FlagsArgument(),
      "--no-config",
      "--quiet",
      "--output",
      output,
      `${outDir}/vkedge.js`,
    ],
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (result.code !== 0) {
    const causes = new TextDecoder().decode(result.stderr)
      .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "")
      .split("\n").map((line) => line.trim()).filter((line) => line !== "");
    const cause = causes.find((line) => /request for url/.test(line))?.replace(/^\d+: /, "") ??
      causes.at(-1) ?? `exit status ${result.code}`;
    fail(
      denort === undefined
        ? `deno compile could not fetch its denort runtime for Deno ${Deno.version.deno} ` +
          `(${cause}). Give it one with DENORT_BIN=/path/to/denort (from denort-<target>.zip ` +
          `of the Deno release), or run 'make dist', which needs only the npm registry`
        : `deno compile failed with DENORT_BIN=${denort}: ${cause}`,
    );
  }
  // The plain deno binary as DENORT_BIN yields a file that ignores the agent: check.
  const version = await run(output, ["--version"]).catch((error) => String(error));
  if (!version.startsWith("vkedge ")) {
    await Deno.remove(output);
    fail(
      `${output} does not run the agent (it answered ${JSON.stringify(version.split("\n")[0])}): ` +
        `DENORT_BIN must be a denort runtime of Deno ${Deno.version.deno}, not the deno binary`,
    );
  }
  console.log(`wrote ${output}: ${version.trim()}`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      "deno-version": { type: "string" },
      arch: { type: "string", multiple: true },
      "out-dir": { type: "string" },
    },
    allowPositionals: true,
  });
  const outDir = values["out-dir"] ?? `${root}/dist`;
  await Deno.mkdir(outDir, { recursive: true });
  const command = positionals[0];
  try {
    if (command === "bundle") await bundle(outDir);
    else if (command === "dist") {
      await dist(outDir, values["deno-version"] ?? Deno.version.deno, values.arch ?? []);
    } else if (command === "compile") await compile(outDir);
    else fail(`expected bundle, dist or compile, found ${JSON.stringify(command ?? "")}`);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

if (import.meta.main) await main();
