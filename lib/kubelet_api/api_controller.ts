/**
 * The kubelet API server as one of the agent's controllers: reads the TLS material and
 * the client CA (a flag's file, or the CA the cluster publishes), wires authentication to
 * TokenReview and authorization to SubjectAccessReview, listens until the agent stops,
 * and is ready once it listens.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentConfig } from "../config.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  type Informer,
  type KubeClient,
  PODS,
  retryWhileUnavailable,
  type SharedInformerFactory,
} from "../kube/mod.ts";
import type { Provider } from "../provider.ts";
import { errorMessage } from "../errors.ts";
import { type Controller, readiness } from "../controller.ts";
import { createAuthenticator, createWebhookAuthorizer } from "./auth.ts";
import { apiSubjectAccessReviewer, apiTokenReviewer, publishedClientCa } from "./delegated_auth.ts";
import { KubeletApiServer } from "./server.ts";
import type { AgentHealth } from "../health.ts";

/** What the kubelet API controller needs of the agent. */
export interface KubeletApiControllerDeps {
  config: AgentConfig;
  client: KubeClient;
  provider: Provider;
  /** InternalIP of the node, put in a generated serving certificate. */
  nodeIp: string;
  /** The shared informers: `/pods` and `/runningpods/` serve the node's pods from them. */
  informers?: SharedInformerFactory;
  /** What `/healthz` and `/readyz` report. */
  health?: AgentHealth;
}

async function readOptionalFile(
  path: string | undefined,
  flag: string,
): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`--${flag}: cannot read ${path}: ${errorMessage(error)}`);
  }
}

/** Serves the kubelet API on `--address`:`--kubelet-port` until the agent stops. */
export class KubeletApiController implements Controller {
  /** Controller name. */
  readonly name = "kubelet-api";
  readonly #deps: KubeletApiControllerDeps;
  readonly #readiness = readiness();
  readonly #log = getLogger(["vkedge", "agent"]);
  readonly #pods: Informer<Pod> | undefined;

  /** A controller serving `deps.provider`'s pods, logs and stats. */
  constructor(deps: KubeletApiControllerDeps) {
    this.#deps = deps;
    this.#pods = deps.informers?.informer<Pod>(PODS, {
      fieldSelector: `spec.nodeName=${deps.config.nodeName}`,
    });
  }

  /** Resolves once the server listens. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Listens until `signal` aborts, then closes; rejects when it cannot listen. */
  async start(signal: AbortSignal): Promise<void> {
    const { config, client, provider, nodeIp, health } = this.#deps;
    const pods = this.#pods;
    const certPem = await readOptionalFile(config.tls.certFile, "tls-cert");
    const keyPem = await readOptionalFile(config.tls.keyFile, "tls-key");
    const clientCaPem = await readOptionalFile(config.tls.clientCaFile, "client-ca") ??
      await retryWhileUnavailable(() => publishedClientCa(client, signal), {
        signal,
        onRetry: (error, delayMs) =>
          this.#log.warn("cannot read the cluster's client CA: {error}; retrying in {seconds}s", {
            error: errorMessage(error),
            seconds: Math.round(delayMs / 100) / 10,
          }),
      });
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
      certificateAddresses: [nodeIp],
      health,
      streaming: {
        timeouts: {
          idleTimeoutMs: config.streamIdleTimeoutMs,
          creationTimeoutMs: config.streamCreationTimeoutMs,
        },
        extendWebSockets: config.extendWebSocketsToKubelet,
      },
      apiPods: pods === undefined ? undefined : () => pods.store.list(),
    });
    const listening = await server.start({
      port: config.kubeletPort,
      hostname: config.address,
      signal,
    });
    this.#log.info("kubelet API listening on {address}:{port}", {
      address: listening.hostname,
      port: listening.port,
    });
    this.#readiness.markReady();
    if (!signal.aborted) {
      await new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => resolve(), { once: true })
      );
    }
    await server.close();
  }
}
