/**
 * The agent's version, from deno.json, and the kubelet version its Node reports.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };

/** vkedge's own version. */
export const VERSION: string = denoJson.version;

/** The Kubernetes minor line vkedge is built and tested against. */
export const KUBERNETES_VERSION = "v1.36.3";

/** `nodeInfo.kubeletVersion` of the Node, e.g. `v1.36.3-vkedge-0.1.0`. */
export const KUBELET_VERSION = `${KUBERNETES_VERSION}-vkedge-${VERSION}`;
