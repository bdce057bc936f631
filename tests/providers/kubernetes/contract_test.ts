// The provider contract suite against the kubernetes provider: the backend is a second
// real control plane whose nodes and pods kwok simulates (tests/_harness/lower_cluster.ts);
// a second provider instance with a client of its own stands for an agent restart.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { providerContract } from "../contract.ts";
import { backend, upperPod } from "./_backend.ts";

providerContract("kubernetes", async () => {
  const test = await backend();
  const pod = (name: string, options: { uid?: string } = {}): Pod =>
    upperPod(name, { ...options, nodeName: test.nodeName });
  return {
    provider: await test.provider(),
    restart: () => test.provider(),
    pod,
    // The lower API server refuses a container name that is no DNS label.
    invalidPod: (name) => {
      const bad = pod(name);
      bad.spec!.containers[0].name = "Not_A_Label";
      return bad;
    },
    timeoutMs: 20_000,
    close: () => test.close(),
  };
});
