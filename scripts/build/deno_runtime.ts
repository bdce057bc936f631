/**
 * The Deno runtime `make dist` puts into each executable: the `@deno/linux-*-glibc` npm
 * packages of the pinned Deno version (the ones the `deno` npm package the Makefile installs
 * depends on), fetched with `npm pack` (the npm cache serves a repeat offline) and checked
 * against the integrity pinned here before the binary is taken out.
 *
 * @module
 */

import { encodeBase64 } from "./base64.ts";
import { run } from "./launcher.ts";

/** A target of `make dist`. */
export interface DistTarget {
  /** `uname -m` of its hosts. */
  arch: "x86_64" | "aarch64";
  /** The npm package carrying its Deno binary. */
  npmPackage: string;
}

/** Every target `make dist` writes. */
export const DIST_TARGETS: readonly DistTarget[] = [
  { arch: "x86_64", npmPackage: "@deno/linux-x64-glibc" },
  { arch: "aarch64", npmPackage: "@deno/linux-arm64-glibc" },
];

/**
 * The npm registry's `dist.integrity` of each runtime package, per Deno version: a new
 * DENO_VERSION in the Makefile needs its two lines here (`npm view <package>@<version>
 * dist.integrity`).
 */
export const RUNTIME_INTEGRITY: Record<string, Record<string, string>> = {
  "2.9.6": {
    "@deno/linux-x64-glibc":
      "sha512-3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==",
    "@deno/linux-arm64-glibc":
      "sha512-poqhoH9B3nYloigEMPT5t8HY+wBeiuea1An5Q7fqgJzP0SYmWsoS/oUnWO/pEiA4ofzIBy1Elt/in58xKtxEoQ==",
  },
};

/** The SRI string (`sha512-<base64>`) of `bytes`. */
export async function integrityOf(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", bytes as Uint8Array<ArrayBuffer>);
  return `sha512-${encodeBase64(new Uint8Array(digest))}`;
}

/**
 * Fetches the runtime of `target` for `denoVersion` into `cacheDir` (kept between builds)
 * and returns the path of its checked `deno` binary. Throws naming the package when it
 * cannot be fetched or does not match its pinned integrity.
 */
export async function fetchRuntime(
  target: DistTarget,
  denoVersion: string,
  cacheDir: string,
): Promise<string> {
  const expected = RUNTIME_INTEGRITY[denoVersion]?.[target.npmPackage];
  if (expected === undefined) {
    throw new Error(
      `no pinned integrity for ${target.npmPackage}@${denoVersion}: add it to ` +
        `scripts/build/deno_runtime.ts (npm view ${target.npmPackage}@${denoVersion} dist.integrity)`,
    );
  }
  const folder = `${cacheDir}/${target.npmPackage.replace("/", "+")}-${denoVersion}`;
  const binary = `${folder}/package/deno`;
  const tarball = `${folder}/package.tgz`;
  await Deno.mkdir(folder, { recursive: true });
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(tarball);
  } catch {
    let listing: string;
    try {
      listing = await run("npm", [
        "pack",
        `${target.npmPackage}@${denoVersion}`,
        "--json",
        "--silent",
        "--pack-destination",
        folder,
      ]);
    } catch (error) {
      throw new Error(
        `cannot fetch the Deno runtime ${target.npmPackage}@${denoVersion} from the npm ` +
          `registry: ${error instanceof Error ? error.message : error}`,
      );
    }
    const [packed] = JSON.parse(listing) as { filename: string }[];
    await Deno.rename(`${folder}/${packed.filename}`, tarball);
    bytes = await Deno.readFile(tarball);
  }
  const found = await integrityOf(bytes);
  if (found !== expected) {
    await Deno.remove(tarball);
    throw new Error(
      `${target.npmPackage}@${denoVersion}: expected integrity ${expected}, found ${found}; ` +
        "the download was removed",
    );
  }
  await run("tar", ["-xzf", tarball, "-C", folder, "package/deno"]);
  return binary;
}
