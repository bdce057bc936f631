// The provider contract suite against the vsphere provider and govmomi's simulator (a
// vCenter with one cluster of three hosts, over TLS with its CA file); a second provider
// instance with a client and session of its own stands for an agent restart.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { VsphereClient } from "../../../providers/vsphere/client.ts";
import { parseVsphereConfig } from "../../../providers/vsphere/config.ts";
import { VsphereProvider } from "../../../providers/vsphere/vsphere_provider.ts";
import { startVcsim } from "../../_harness/vcsim.ts";
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
        image: "vsphere/cirros",
        resources: { limits: { cpu: "1", memory: "256Mi" } },
      }],
    },
  };
}

providerContract("vsphere", async () => {
  const sim = await startVcsim({ guestBootMs: 50 });
  const stops: AbortController[] = [];
  const caCerts = [await Deno.readTextFile(sim.caFile)];
  function create(): VsphereProvider {
    const stop = new AbortController();
    stops.push(stop);
    const config = parseVsphereConfig({
      endpoint: sim.url,
      auth: { username: sim.username, passwordEnv: "UNUSED_IN_THESE_TESTS" },
      tls: { caFile: sim.caFile },
      clusterName: "contract",
      shutdownGraceSeconds: 5,
    });
    const client = new VsphereClient({
      url: sim.url,
      username: sim.username,
      password: sim.password,
      tls: { caCerts },
      requestTimeoutMs: 10_000,
    });
    return new VsphereProvider(config, client, {
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
      twin.spec!.containers.push({ name: "sidecar", image: "vsphere/cirros" });
      return twin;
    },
    timeoutMs: 10_000,
    async close() {
      for (const stop of stops) stop.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sim.close();
    },
  };
});
