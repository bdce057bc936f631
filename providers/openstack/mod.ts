/**
 * The `openstack` provider module: one Nova server per pod.
 *
 * - Image: the container image `openstack/<Glance image name or id>` (or an alias from
 *   `images.aliases`), which must be active.
 * - Flavor: the smallest that fits `limits` (else `requests`, else `defaults`) of cpu and
 *   memory, or the one annotation `openstack.vkedge.io/flavor` names.
 * - Networks: annotation `openstack.vkedge.io/networks` (names or ids; `none`) or
 *   `networks.default`; the first network's fixed IP is the pod IP.
 * - Guest set-up: cloud-init user data from annotation `openstack.vkedge.io/user-data`
 *   plus the hostname, the container's env and its command and args.
 * - Identity: metadata `vkedge.io:cluster`, `node`, `namespace`, `pod`, `pod-uid` and tags
 *   `vkedge-node-<hash>` and `vkedge-uid-<workload uid>`; name `vkedge-<namespace>.<pod>`.
 *
 * Configuration is described in `config.ts`, the client in `client.ts`, the pod ↔ server
 * mapping in `mapping.ts` and the provider in `openstack_provider.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { OpenStackClient } from "./client.ts";
import { parseOpenStackConfig, resolveOpenStackCredentials } from "./config.ts";
import { createOpenStackProvider } from "./create_provider.ts";

export {
  type OpenStackConfig,
  openstackConfigSchema,
  parseOpenStackConfig,
  resolveOpenStackCredentials,
} from "./config.ts";
export { OpenStackClient, type OpenStackClientOptions } from "./client.ts";
export { type KeystoneCredentials } from "./keystone.ts";
export { OpenStackHttpError, toProviderError } from "./errors.ts";
export { createOpenStackProvider, MigratingOpenStackProvider } from "./create_provider.ts";
export { OpenStackProvider, type OpenStackProviderOptions } from "./openstack_provider.ts";

/** The openstack provider module, as registered in `providers/mod.ts`. */
const openstackProviderModule: ProviderModule = {
  name: "openstack",
  description:
    "one Nova server per pod (Keystone v3, flavors by size, cloud-init, console logs, power, snapshots, migration)",
  async create(options) {
    const config = parseOpenStackConfig(options.config);
    const credentials = await resolveOpenStackCredentials(config);
    const client = new OpenStackClient({
      authUrl: config.auth.url,
      credentials,
      region: config.region,
      interface: config.interface,
      endpoints: config.endpoints,
      maxConcurrentRequests: config.maxConcurrentRequests,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    });
    return await createOpenStackProvider(config, client, options);
  },
};

export default openstackProviderModule;
