// The provider contract suite against the mock provider, with a state file so that a
// second instance (an agent restart) finds the pods and their VMs; VM actions take 20 ms
// and the two default hosts give each VM one migration target.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { MockProvider, parseMockConfig } from "../../../providers/mock/mod.ts";
import { providerContract } from "../contract.ts";

function pod(name: string, options: { uid?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name, uid: options.uid ?? crypto.randomUUID() },
    spec: { nodeName: "mock-node", containers: [{ name: "app", image: "nginx:1.27" }] },
  };
}

providerContract("mock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-contract-" });
  const stops: AbortController[] = [];
  function create(): MockProvider {
    const stop = new AbortController();
    stops.push(stop);
    return new MockProvider(
      parseMockConfig({
        stateFile: `${dir}/state.json`,
        logHeartbeatSeconds: 1,
        vm: { powerDelayMs: 20, snapshotDelayMs: 20, migrationDelayMs: 20 },
      }),
      {
        nodeName: "mock-node",
        operatingSystem: "linux",
        internalIp: "192.0.2.10",
        daemonPort: 10250,
        signal: stop.signal,
      },
    );
  }
  return {
    provider: create(),
    restart: () => Promise.resolve(create()),
    pod,
    invalidPod: (name) => ({ ...pod(name), spec: { containers: [] } }),
    migrationTargets: 1,
    async close() {
      for (const stop of stops) stop.abort();
      await Deno.remove(dir, { recursive: true });
    },
  };
});
