/**
 * The `vsphere` provider module: one vSphere VM per pod, on vCenter or a lone ESXi host.
 *
 * - Image: `vsphere/<template>` (or an alias from `images.aliases`) names the template to
 *   clone.
 * - Size: `limits` (else `requests`, else `defaults`) of cpu and memory.
 * - Network: annotation `vsphere.vkedge.io/network` (else a VM-Pod's first
 *   `vkedge.io/networks`, else `networks.default`, else the template's).
 * - Guest set-up: cloud-init's guestinfo data source (env, command and args, plus
 *   annotation `vsphere.vkedge.io/user-data` or `vkedge.io/user-data`).
 * - Identity: name `vkedge-<namespace>.<name>`; ownership in `config.extraConfig`
 *   (`guestinfo.vkedge.cluster`, `.node`, `.namespace`, `.pod`, `.uid`, `.pod-uid`).
 *
 * Configuration is described in `config.ts`, the client in `client.ts`, the pod ↔ VM
 * mapping in `mapping.ts` and the provider in `vsphere_provider.ts`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ProviderModule } from "../../lib/provider.ts";
import { VsphereClient } from "./client.ts";
import { parseVsphereConfig, resolveVsphereSecrets } from "./config.ts";
import { VsphereProvider } from "./vsphere_provider.ts";

export {
  parseVsphereConfig,
  resolveVsphereSecrets,
  type VsphereConfig,
  vsphereConfigSchema,
} from "./config.ts";
export { VsphereClient, type VsphereClientOptions } from "./client.ts";
export { toProviderError, VsphereFault } from "./faults.ts";
export { VsphereProvider, type VsphereProviderOptions } from "./vsphere_provider.ts";

/** The vsphere provider module, as registered in `providers/mod.ts`. */
const vsphereProviderModule: ProviderModule = {
  name: "vsphere",
  description:
    "one vSphere VM per pod, cloned from a template (vCenter or ESXi; status pushed by WaitForUpdatesEx)",
  async create(options) {
    const config = parseVsphereConfig(options.config);
    const secrets = await resolveVsphereSecrets(config);
    if (config.tls.insecure) {
      getLogger(["vkedge", "provider", "vsphere"]).warn(
        "TLS certificate verification of {url} is OFF (tls.insecure: true): use tls.caFile instead",
        { url: config.endpoint },
      );
    }
    const client = new VsphereClient({
      url: config.endpoint,
      username: config.auth.username,
      password: secrets.password,
      tls: { caCerts: secrets.caCerts, insecure: config.tls.insecure },
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    });
    const provider = new VsphereProvider(config, client, options);
    await provider.verifyPlacement(options.signal);
    return provider;
  },
};

export default vsphereProviderModule;
