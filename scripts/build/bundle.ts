/**
 * The single-file agent: `deno bundle` of mod.ts, with the git commit stamped into it where
 * lib/version.ts holds its placeholder, so that `--version` names the build's commit.
 *
 * @module
 */

import { COMMIT_STAMP } from "../../lib/version.ts";
import { run } from "./launcher.ts";

/** The commit of the work tree at `root` (`-dirty` with uncommitted changes), or `unknown`. */
export async function gitCommit(root: string): Promise<string> {
  try {
    const head = (await run("git", ["rev-parse", "HEAD"], { cwd: root })).trim();
    const changes = await run("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: root,
    });
    return changes.trim() === "" ? head : `${head}-dirty`;
  } catch {
    return "unknown";
  }
}

/** `text` with every commit placeholder replaced by `commit`; throws when there is none. */
export function stampCommit(text: string, commit: string): string {
  if (!text.includes(COMMIT_STAMP)) {
    throw new Error(`expected the commit placeholder "${COMMIT_STAMP}" in the bundle, found none`);
  }
  return text.replaceAll(COMMIT_STAMP, `vkedge-commit:${commit}`);
}

/** Bundles `${root}/mod.ts` to `output` with the commit stamped in; returns the commit. */
export async function writeBundle(root: string, output: string): Promise<string> {
  const raw = `${output}.unstamped.js`;
  await run(Deno.execPath(), ["bundle", "--quiet", "-o", raw, "mod.ts"], { cwd: root });
  const commit = await gitCommit(root);
  try {
    await Deno.writeTextFile(output, stampCommit(await Deno.readTextFile(raw), commit));
  } finally {
    await Deno.remove(raw);
  }
  return commit;
}
