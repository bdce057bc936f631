/**
 * Providers of the openstack provider over the shared OpenStack test stack, each for a
 * node of its own, and the clean-up of what they made: the servers whose metadata names
 * the node and the snapshot images of those servers.
 */

import {
  openstackStack,
  providerConfigFor,
  removeNodeServers,
  type StackInfo,
} from "../../_harness/openstack.ts";
import {
  OpenStackClient,
  type OpenStackClientOptions,
} from "../../../providers/openstack/client.ts";
import {
  type OpenStackConfig,
  parseOpenStackConfig,
  resolveOpenStackCredentials,
} from "../../../providers/openstack/config.ts";
import { createOpenStackProvider } from "../../../providers/openstack/create_provider.ts";
import type { OpenStackProvider } from "../../../providers/openstack/openstack_provider.ts";

/** Providers for one node, and their clean-up. */
export interface StackNode {
  stack: StackInfo;
  nodeName: string;
  config: OpenStackConfig;
  /** A new provider instance (an agent start), with a client of its own. */
  provider(options?: { client?: Partial<OpenStackClientOptions> }): Promise<OpenStackProvider>;
  /** The client of the provider made last. */
  client?: OpenStackClient;
  /** Stops every provider and deletes every server of the node and its snapshots. */
  close(): Promise<void>;
}

/** A node of its own on the shared stack; `extra` is merged into the provider config. */
export async function stackNode(
  prefix: string,
  options: { extra?: Record<string, unknown>; member?: boolean } = {},
): Promise<StackNode> {
  const stack = await openstackStack();
  const dir = await Deno.makeTempDir({ prefix: `vkedge-os-${prefix}-` });
  const nodeName = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const config = parseOpenStackConfig(
    await providerConfigFor(stack, {
      dir,
      clusterName: "provider-tests",
      member: options.member,
      extra: { pollIntervalSeconds: 0.2, actionTimeoutSeconds: 180, ...options.extra },
    }),
  );
  const stops: AbortController[] = [];
  const node: StackNode = {
    stack,
    nodeName,
    config,
    async provider(providerOptions = {}) {
      const stop = new AbortController();
      stops.push(stop);
      const client = new OpenStackClient({
        authUrl: config.auth.url,
        credentials: await resolveOpenStackCredentials(config),
        region: config.region,
        requestTimeoutMs: 60_000,
        retryBaseDelayMs: 100,
        ...providerOptions.client,
      });
      node.client = client;
      return await createOpenStackProvider(config, client, {
        nodeName,
        operatingSystem: "linux",
        internalIp: "10.1.0.1",
        daemonPort: 10250,
        signal: stop.signal,
      });
    },
    async close() {
      for (const stop of stops) stop.abort();
      await removeNodeServers(stack, nodeName);
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    },
  };
  return node;
}
