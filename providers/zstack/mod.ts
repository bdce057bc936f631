/**
 * The `zstack` provider module: one ZStack VM per pod.
 *
 * - Image: the container image `zstack/<image name or uuid>` (or an alias from
 *   `images.aliases`), which must be an Enabled, Ready root-volume template.
 * - Size: `limits` (else `requests`, else `defaults`) of cpu and memory, or the instance
 *   offering named by annotation `zstack.vkedge.io/instance-offering`.
 * - Networks: annotation `zstack.vkedge.io/l3-networks` (comma-separated names or uuids,
 *   the first is the pod network) or `networks.default`.
 * - Guest set-up: cloud-init user data from annotation `zstack.vkedge.io/user-data`
 *   (`#cloud-config` or `#!` script) plus the hostname, the container's env
 *   (`/etc/vkedge/pod.env`) and its command and args (`/etc/vkedge/run.sh`).
 * - Identity: VM uuid = workload UID without dashes (a VM-Pod's VirtualMachine UID, else
 *   the pod UID); name `vkedge-<namespace>.<name>`; user tags `vkedge.io/cluster:<c>`,
 *   `vkedge.io/node:<c>/<node>`, `vkedge.io/namespace:<ns>`, `vkedge.io/pod:<name>`,
 *   `vkedge.io/pod-uid:<workload uid>`; the pod spec remembered in the VM description
 *   (see `stored_spec.ts`).
 *
 * Configuration is described in `config.ts`, the client in `client.ts`, the pod ↔ VM
 * mapping in `mapping.ts` and the provider in `zstack_provider.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { ZStackClient } from "./client.ts";
import { parseZStackConfig, resolveZStackCredentials } from "./config.ts";
import { ZStackProvider } from "./zstack_provider.ts";

export {
  parseZStackConfig,
  resolveZStackCredentials,
  type SecretSources,
  type ZStackConfig,
  zstackConfigSchema,
} from "./config.ts";
export { ZStackClient, type ZStackClientOptions } from "./client.ts";
export { type ZStackCredentials } from "./session.ts";
export { toProviderError, ZStackApiError, ZStackHttpError } from "./errors.ts";
export { ZStackProvider, type ZStackProviderOptions } from "./zstack_provider.ts";

/** The zstack provider module, as registered in `providers/mod.ts`. */
const zstackProviderModule: ProviderModule = {
  name: "zstack",
  description: "one ZStack VM per pod (cloud-init user data, status by polling, lifecycle logs)",
  async create(options) {
    const config = parseZStackConfig(options.config);
    const credentials = await resolveZStackCredentials(config);
    const client = new ZStackClient({
      endpoint: config.endpoint,
      credentials,
      maxConcurrentRequests: config.maxConcurrentRequests,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      jobTimeoutMs: config.jobTimeoutSeconds * 1000,
    });
    const provider = new ZStackProvider(config, client, options);
    await provider.verifyPlacement(options.signal);
    return provider;
  },
};

export default zstackProviderModule;
