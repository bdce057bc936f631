// The provider contract suite against the swarm provider and a real Swarm (Debian's
// dockerd in a network namespace of its own, one per test); a second provider instance
// with a client of its own stands for an agent restart.

import { providerContract } from "../contract.ts";
import { startSwarm } from "../../_harness/swarm.ts";
import { busyboxPod, shContainer, swarmProviders } from "./_swarm_provider.ts";

providerContract("swarm", async () => {
  const swarm = await startSwarm({ name: "contract" });
  const providers = swarmProviders(swarm, "edge-1");
  return {
    provider: providers.create(),
    restart: () => Promise.resolve(providers.create()),
    pod: (name, options = {}) =>
      busyboxPod(name, "edge-1", [
        shContainer("main", "echo one; echo two; exec sleep 3600"),
      ], options),
    invalidPod: (name) =>
      busyboxPod(name, "edge-1", [shContainer("main", "true")], {
        spec: { initContainers: [shContainer("init", "true")] },
      }),
    timeoutMs: 30_000,
    async close() {
      providers.stop();
      await swarm.close();
    },
  };
});
