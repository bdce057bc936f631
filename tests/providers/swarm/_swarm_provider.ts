/**
 * The swarm provider over a test Swarm (`tests/_harness/swarm.ts`), for the provider
 * tests: a provider instance per call of `create` (a second one stands for an agent
 * restart), pods of the busybox image, and a close that stops every instance.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { EngineClient } from "../../../providers/swarm/client.ts";
import { parseSwarmConfig, type SwarmConfig } from "../../../providers/swarm/config.ts";
import { SwarmProvider } from "../../../providers/swarm/swarm_provider.ts";
import type { PodEventRecorder } from "../../../lib/provider.ts";
import { BUSYBOX_IMAGE, type SwarmDaemon } from "../../_harness/swarm.ts";

/** Provider instances over one Swarm. */
export interface SwarmProviders {
  /** A new instance (the same node: it finds what earlier ones made). */
  create(options?: { recordEvent?: PodEventRecorder }): SwarmProvider;
  /** The configuration the instances use. */
  config: SwarmConfig;
  /** Stops every instance. */
  stop(): void;
}

/** Provider instances for node `nodeName` over `swarm`. */
export function swarmProviders(
  swarm: SwarmDaemon,
  nodeName: string,
  overrides: Record<string, unknown> = {},
): SwarmProviders {
  const config = parseSwarmConfig({
    endpoint: swarm.endpoint,
    clusterName: "test",
    restartDelaySeconds: 1,
    resyncSeconds: 30,
    ...overrides,
  });
  const stops: AbortController[] = [];
  return {
    config,
    create(options = {}) {
      const stop = new AbortController();
      stops.push(stop);
      const client = new EngineClient({
        endpoint: config.endpoint,
        apiVersion: config.apiVersion,
        requestTimeoutMs: 10_000,
      });
      return new SwarmProvider(config, client, {
        nodeName,
        operatingSystem: "linux",
        internalIp: "127.0.0.1",
        daemonPort: 10250,
        signal: stop.signal,
        recordEvent: options.recordEvent,
      });
    },
    stop() {
      for (const stop of stops) stop.abort();
    },
  };
}

/** A busybox container running `script` with `sh -c`. */
export function shContainer(
  name: string,
  script: string,
  extra: Partial<Container> = {},
): Container {
  return { name, image: BUSYBOX_IMAGE, command: ["sh", "-c", script], ...extra };
}

/** A pod of `containers` bound to `nodeName`, stopped at once on removal. */
export function busyboxPod(
  name: string,
  nodeName: string,
  containers: Container[],
  options: { uid?: string; spec?: Partial<NonNullable<Pod["spec"]>> } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name, uid: options.uid ?? crypto.randomUUID() },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers, ...options.spec },
  };
}
