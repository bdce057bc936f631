/**
 * The agent: wires the Kubernetes client, the provider, the node and pod
 * controllers and the kubelet API together and runs them until aborted.
 * Stopping the agent leaves every pod running in the provider.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentConfig } from "./config.ts";
import type { KubeClient } from "./kube/mod.ts";
import type { Provider } from "./provider.ts";
import { EventRecorder } from "./events.ts";
import { NodeController } from "./node/node_controller.ts";
import { PodController } from "./pods/pod_controller.ts";
import {
  createAuthenticator,
  createWebhookAuthorizer,
  KubeletApiServer,
} from "./kubelet_api/mod.ts";
import {
  apiSubjectAccessReviewer,
  apiTokenReviewer,
  publishedClientCa,
} from "./kubelet_api/delegated_auth.ts";
import { KUBELET_VERSION } from "./version.ts";
import { errorMessage } from "./errors.ts";

/** Where the agent runs, resolved from the config at start-up. */
export interface AgentOptions {
  config: AgentConfig;
  client: KubeClient;
  provider: Provider;
  /** InternalIP address of the node. */
  nodeIp: string;
  /** Records the agent's events (one recorder shared with the provider). */
  events?: EventRecorder;
}

/** Thrown when the agent is not ready within `--startup-timeout`. */
export class StartupTimeoutError extends Error {
  override name = "StartupTimeoutError";
}

async function readOptionalFile(
  path: string | undefined,
  flag: string,
): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `--${flag}: cannot read ${path}: ${errorMessage(error)}`,
    );
  }
}

/** Resolves like `work`, or rejects with StartupTimeoutError after `ms` (0: never). */
async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  if (ms <= 0) return await work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StartupTimeoutError(`not ready within --startup-timeout=${ms / 1000}s`)),
      ms,
    );
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the agent until the signal aborts; rejects on a start-up failure. */
export async function runAgent(options: AgentOptions, signal: AbortSignal): Promise<void> {
  const { config, client, provider } = options;
  const log = getLogger(["vkedge", "agent"]);
  const events = options.events ??
    new EventRecorder(client, { component: "vkedge", host: config.nodeName });

  const node = new NodeController(client, provider, {
    nodeName: config.nodeName,
    providerName: config.provider,
    operatingSystem: config.operatingSystem,
    internalIp: options.nodeIp,
    kubeletPort: config.kubeletPort,
    kubeletVersion: KUBELET_VERSION,
    taint: config.taint.enabled
      ? {
        key: config.taint.key,
        value: config.taint.value ?? config.provider,
        effect: config.taint.effect,
      }
      : undefined,
    pingIntervalMs: config.providerPingIntervalMs,
    statusIntervalMs: config.nodeStatusUpdateMs,
    events,
  });
  const pods = new PodController(client, provider, {
    nodeName: config.nodeName,
    workers: config.podSyncWorkers,
    resyncMs: config.fullResyncPeriodMs,
    events,
  });

  let running: Promise<unknown> | undefined;
  const start = async () => {
    const certPem = await readOptionalFile(config.tls.certFile, "tls-cert");
    const keyPem = await readOptionalFile(config.tls.keyFile, "tls-key");
    const clientCaPem = await readOptionalFile(config.tls.clientCaFile, "client-ca") ??
      await publishedClientCa(client, signal);
    const server = new KubeletApiServer({
      nodeName: config.nodeName,
      provider,
      authenticator: createAuthenticator({
        tokenReview: apiTokenReviewer(client),
        anonymousAuth: config.anonymousAuth,
      }),
      authorizer: createWebhookAuthorizer(apiSubjectAccessReviewer(client)),
      tls: certPem && keyPem ? { certPem, keyPem } : undefined,
      clientCaPem,
      certificateAddresses: [options.nodeIp],
    });
    const listening = await server.start({
      port: config.kubeletPort,
      hostname: config.address,
      signal,
    });
    log.info("kubelet API listening on {address}:{port}", {
      address: listening.hostname,
      port: listening.port,
    });
    running = Promise.all([node.run(signal), pods.run(signal)]);
    await Promise.race([Promise.all([node.ready, pods.ready]), running]);
  };
  await withTimeout(start(), config.startupTimeoutMs);
  if (!signal.aborted) {
    log.info("node {node} is ready (provider {provider})", {
      node: config.nodeName,
      provider: config.provider,
    });
  }
  await running;
}
