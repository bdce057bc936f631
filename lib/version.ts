/**
 * The agent's version, from deno.json, the git commit it was built from, and the kubelet
 * version its Node reports.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** vkedge's own version. */
export const VERSION: string = denoJson.version;

/**
 * The literal `scripts/build.ts` replaces in the bundle with `vkedge-commit:<sha>`; the
 * source itself is never built from a known commit.
 */
export const COMMIT_STAMP = "vkedge-commit:unstamped";

/** The commit of a stamp: the text after `vkedge-commit:`, `unknown` for an unstamped one. */
export function commitOfStamp(stamp: string): string {
  const commit = stamp.slice("vkedge-commit:".length);
  return commit === "unstamped" || commit === "" ? "unknown" : commit;
}

/** The git commit the bundle was built from, `unknown` when not built from git. */
export const COMMIT: string = commitOfStamp(COMMIT_STAMP);

/** The Kubernetes minor line vkedge is built and tested against. */
export const KUBERNETES_VERSION = "v1.36.3";

/** `nodeInfo.kubeletVersion` of the Node, e.g. `v1.36.3-vkedge-0.1.0`. */
export const KUBELET_VERSION = `${KUBERNETES_VERSION}-vkedge-${VERSION}`;

/** What `vkedge --version` prints: `vkedge 0.1.0 (commit 3f2c1ab0d9e4, deno 2.9.6)`. */
export function versionLine(): string {
  return `vkedge ${VERSION} (commit ${COMMIT}, deno ${Deno.version.deno})`;
}
