/**
 * The agent: builds the runtime every controller shares (Kubernetes client, provider,
 * shared informers, event recorder), starts the controllers `lib/controllers.ts` lists for
 * this provider under one `ControllerManager`, and runs them until aborted. Stopping the
 * agent leaves every pod running in the provider.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { AgentConfig } from "./config.ts";
import { type KubeClient, SharedInformerFactory } from "./kube/mod.ts";
import type { Provider } from "./provider.ts";
import { EventRecorder } from "./events.ts";
import { ControllerManager } from "./controller.ts";
import { errorMessage } from "./errors.ts";
import { installCrds } from "./vm/crd_install.ts";
import { PROVIDER_UNAVAILABLE_TAINT } from "./node/node_conditions.ts";
import { VirtualMachineRetention } from "./vm/retention.ts";
import { type ControllerEntry, controllersFor } from "./controllers.ts";
import { instrumentProvider } from "./provider_metrics.ts";
import { AgentHealth } from "./health.ts";

/** Where the agent runs, resolved from the config at start-up. */
export interface AgentOptions {
  config: AgentConfig;
  client: KubeClient;
  provider: Provider;
  /** InternalIP address of the node. */
  nodeIp: string;
  /** Records the agent's events (one recorder shared with the provider). */
  events?: EventRecorder;
  /** The shared informers (default: a new factory over `client`). */
  informers?: SharedInformerFactory;
  /** Controllers to run (default: every one `lib/controllers.ts` lists). */
  controllers?: readonly ControllerEntry[];
  /** Called once every controller is ready (for `/readyz`). */
  onReady?: () => void;
  /** What `/healthz` and `/readyz` report (default: a new one). */
  health?: AgentHealth;
}

/** Thrown when the agent is not ready within `--startup-timeout`. */
export class StartupTimeoutError extends Error {
  override name = "StartupTimeoutError";
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

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Why the agent may not be ready, as far as the API server goes: one unretried `GET /readyz`
 * says whether it answers, and if not, the cause (refused, DNS, TLS, no answer in time).
 */
async function describeApiServer(client: KubeClient): Promise<string> {
  const server = client.config.server;
  try {
    await client.requestText({
      method: "GET",
      path: "/readyz",
      idempotent: false,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    return `the API server ${server} answers; the warnings above say what is waiting`;
  } catch (error) {
    const cause = error instanceof DOMException && error.name === "TimeoutError"
      ? `no answer to GET /readyz within ${PROBE_TIMEOUT_MS / 1000}s`
      : errorMessage(error);
    return `the API server ${server} is unavailable: ${cause}`;
  }
}

/** Runs the agent until the signal aborts; rejects on a start-up failure. */
export async function runAgent(options: AgentOptions, signal: AbortSignal): Promise<void> {
  const { config, client } = options;
  // Every provider call is counted and timed (vkedge_provider_requests_total, …).
  const provider = instrumentProvider(options.provider);
  const log = getLogger(["vkedge", "agent"]);
  const informers = options.informers ?? new SharedInformerFactory(client);
  const events = options.events ??
    new EventRecorder(client, { component: "vkedge", host: config.nodeName });
  const manager = new ControllerManager(informers);
  const health = options.health ?? new AgentHealth();
  health.register("controllers", () => {
    const stopped = manager.stoppedControllers;
    return stopped.length === 0 ? undefined : `controllers stopped: ${stopped.join(", ")}`;
  });
  if (config.installCrds) {
    await installCrds(client, { signal });
    log.info("VirtualMachine CRDs installed");
  }
  const runtime = {
    config,
    client,
    provider,
    informers,
    events,
    nodeIp: options.nodeIp,
    retention: new VirtualMachineRetention(),
    health,
  };
  for (const controller of controllersFor(runtime, options.controllers)) manager.add(controller);
  log.debug("controllers: {names}", { names: manager.names.join(", ") });

  const stop = new AbortController();
  const onAbort = () => {
    health.markStopping();
    stop.abort(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const running = manager.run(stop.signal);
  try {
    // A controller failing before all are ready fails the start-up at once.
    await withTimeout(Promise.race([manager.ready, running]), config.startupTimeoutMs);
  } catch (error) {
    stop.abort(error);
    await running.catch(() => undefined);
    if (error instanceof StartupTimeoutError) {
      throw new StartupTimeoutError(`${error.message}: ${await describeApiServer(client)}`);
    }
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (!signal.aborted) {
    health.markReady();
    const pingFailure = await provider.ping(AbortSignal.any([signal, AbortSignal.timeout(10_000)]))
      .then(() => undefined, (error: unknown) => error);
    if (pingFailure === undefined) {
      log.info("node {node} is ready (provider {provider})", {
        node: config.nodeName,
        provider: config.provider,
      });
    } else {
      log.warn(
        "node {node} is registered, but provider {provider} is unavailable: {error}; pods wait for it, nothing is evicted, and the node is tainted {taint}:NoSchedule until it answers",
        {
          node: config.nodeName,
          provider: config.provider,
          error: errorMessage(pingFailure),
          taint: PROVIDER_UNAVAILABLE_TAINT.key,
        },
      );
    }
    options.onReady?.();
  }
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  await running;
}
