/**
 * The `swarm` provider module: each pod container one Docker Swarm service.
 *
 * - Mapping: one replicated service with one replica per container, all on the pod
 *   network (an attachable overlay network) with the alias `<container>.<pod>.<namespace>`
 *   and the DNS search domain `<pod>.<namespace>`, so containers reach each other by
 *   name and see the pod's hostname; a `hostNetwork` pod shares the Swarm node's network.
 * - Process: image, command, args, env (resolved by the agent, passed as env), working
 *   dir, user, TTY; limits and requests as Swarm limits and reservations; the pod's
 *   restart policy as the service's; `hostPort`s published in host mode.
 * - Identity: labels `vkedge.io/cluster`, `vkedge.io/node` (`<cluster>/<node>`),
 *   `vkedge.io/namespace`, `vkedge.io/pod`, `vkedge.io/pod-uid`, `vkedge.io/container`
 *   on every service and task container; the service name `vk-<hash>-<ns>-<pod>-<container>`.
 * - Status: from the tasks, kept current by the Engine's event stream.
 *
 * Configuration is described in `config.ts`, the client in `client.ts`, the mapping in
 * `mapping.ts` and the provider in `swarm_provider.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { EngineClient } from "./client.ts";
import { parseSwarmConfig, readTlsFiles } from "./config.ts";
import { SwarmProvider } from "./swarm_provider.ts";

export {
  type EngineEndpoint,
  parseSwarmConfig,
  podNetworkName,
  readTlsFiles,
  type SwarmConfig,
  swarmConfigSchema,
  type TlsFiles,
} from "./config.ts";
export { EngineClient } from "./client.ts";
export { EngineHttpError, toProviderError } from "./errors.ts";
export { SwarmProvider, type SwarmProviderOptions } from "./swarm_provider.ts";

/** The swarm provider module, as registered in `providers/mod.ts`. */
const swarmProviderModule: ProviderModule = {
  name: "swarm",
  description:
    "one Docker Swarm service per pod container (Engine API over a unix socket or TCP+TLS, status from the event stream, logs, exec)",
  async create(options) {
    const config = parseSwarmConfig(options.config);
    const tls = config.tls === undefined ? undefined : await readTlsFiles(config.tls);
    const client = new EngineClient({
      endpoint: config.endpoint,
      tls,
      apiVersion: config.apiVersion,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    });
    return new SwarmProvider(config, client, options);
  },
};

export default swarmProviderModule;
