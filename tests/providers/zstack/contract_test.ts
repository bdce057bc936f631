// The provider contract suite against the zstack provider and the ZStack simulator; a
// second provider instance with a client of its own stands for an agent restart.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { ZStackClient } from "../../../providers/zstack/client.ts";
import { parseZStackConfig } from "../../../providers/zstack/config.ts";
import { ZStackProvider } from "../../../providers/zstack/zstack_provider.ts";
import { startSimulator } from "../../zstack_sim/mod.ts";
import { providerContract } from "../contract.ts";

function pod(name: string, options: { uid?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name, uid: options.uid ?? crypto.randomUUID() },
    spec: {
      nodeName: "edge-1",
      containers: [{
        name: "main",
        image: "zstack/cirros",
        resources: { limits: { cpu: "1", memory: "256Mi" } },
      }],
    },
  };
}

providerContract("zstack", async () => {
  const sim = await startSimulator({ port: 0, jobDurationMs: 20, vmBootMs: 40 });
  const stops: AbortController[] = [];
  function create(): ZStackProvider {
    const stop = new AbortController();
    stops.push(stop);
    const config = parseZStackConfig({
      endpoint: sim.url,
      auth: { account: { name: "admin", passwordEnv: "UNUSED_IN_THESE_TESTS" } },
      clusterName: "contract",
      placement: { zone: "zone-1", cluster: "cluster-1" },
      networks: { default: ["l3-default"] },
      pollIntervalSeconds: 0.05,
    });
    const client = new ZStackClient({
      endpoint: sim.url,
      credentials: { kind: "account", accountName: "admin", password: "password" },
      retryBaseDelayMs: 10,
      maxPollIntervalMs: 50,
      retries: 2,
      requestTimeoutMs: 2_000,
    });
    return new ZStackProvider(config, client, {
      nodeName: "edge-1",
      operatingSystem: "linux",
      internalIp: "10.1.0.1",
      daemonPort: 10250,
      signal: stop.signal,
    });
  }
  return {
    provider: create(),
    restart: () => Promise.resolve(create()),
    pod,
    invalidPod: (name) => {
      const twin = pod(name);
      twin.spec!.containers.push({ name: "sidecar", image: "zstack/cirros" });
      return twin;
    },
    async close() {
      for (const stop of stops) stop.abort();
      await sim.close();
    },
  };
});
