// The provider contract suite against the openstack provider and the real Nova API of the
// OpenStack test stack (fake hypervisor); a second provider instance with a client of its
// own stands for an agent restart. Each contract test has a node of its own.

import { providerContract } from "../contract.ts";
import { pod } from "./_fixtures.ts";
import { stackNode } from "./_stack_backend.ts";

providerContract("openstack", async () => {
  const node = await stackNode("contract");
  return {
    provider: await node.provider(),
    restart: () => node.provider(),
    pod: (name, options) => pod(name, options),
    invalidPod: (name) => {
      const twin = pod(name);
      twin.spec!.containers.push({ name: "sidecar", image: "openstack/tiny" });
      return twin;
    },
    timeoutMs: 120_000,
    migrationTargets: 1,
    close: () => node.close(),
  };
});
