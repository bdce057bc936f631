/**
 * Services that reach VMs: a Service without a selector that names VirtualMachines (by
 * name or by a label selector) gets this node's EndpointSlice with the VM IP and the target
 * port; a stopped VM's endpoint is not ready; a deleted VM leaves; a deleted Service takes
 * its slices with it (the garbage collector, by owner reference). A plain pod on the node
 * selected by an ordinary Service goes through the built-in EndpointSlice controller, which
 * leaves the agent's slices alone.
 */

import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { assertEquals } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { runOnNode } from "../_harness/pods.ts";
import { mockBackend } from "./vm/backends.ts";

async function slicesOf(ns: string, service: string): Promise<EndpointSlice[]> {
  const list = await kubectlJson<{ items: EndpointSlice[] }>([
    "get",
    "endpointslices",
    "-n",
    ns,
    "-l",
    `kubernetes.io/service-name=${service}`,
  ]);
  return list.items;
}

async function apply(ns: string, object: unknown): Promise<void> {
  await kubectl(["apply", "-n", ns, "-f", "-"], { stdin: JSON.stringify(object) });
}

Deno.test({
  name:
    "EndpointSlices for Services that name VirtualMachines follow the VMs; ordinary Services of VM-Pods use the built-in controller",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await mockBackend.withNode("vm-endpoints", async (node) => {
      const { ns, nodeName } = node;
      for (
        const [name, labels] of [["web", { app: "web" }], ["api", { app: "web" }], [
          "db",
          {},
        ]] as const
      ) {
        await apply(ns, {
          apiVersion: "vkedge.io/v1alpha1",
          kind: "VirtualMachine",
          metadata: { name, labels },
          spec: { nodeName, image: "vm-image" },
        });
      }
      await waitFor("three VMs Running", async () => {
        const list = await kubectlJson<{ items: { status?: { ready?: boolean } }[] }>([
          "get",
          "vm",
          "-n",
          ns,
        ]);
        return list.items.filter((vm) => vm.status?.ready).length === 3;
      }, { timeoutMs: 60_000 });
      const ipOf = async (name: string) =>
        (await kubectl(["get", "vm", name, "-n", ns, "-o", "jsonpath={.status.ip}"])).trim();

      await apply(ns, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "by-name", annotations: { "vkedge.io/virtual-machines": "db" } },
        spec: { ports: [{ name: "pg", port: 5432, targetPort: 15432 }] },
      });
      await apply(ns, {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: "by-label",
          annotations: { "vkedge.io/virtual-machine-selector": "app=web" },
        },
        spec: {
          ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "metrics", port: 9100 }],
        },
      });
      const dbIp = await ipOf("db");
      await waitFor("the by-name slice", async () => {
        const [slice] = await slicesOf(ns, "by-name");
        return slice?.endpoints?.[0]?.addresses[0] === dbIp;
      }, { timeoutMs: 30_000 });
      const [byName] = await slicesOf(ns, "by-name");
      assertEquals(byName.addressType, "IPv4");
      assertEquals(
        byName.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"],
        "endpoints.vkedge.io",
      );
      assertEquals(byName.ports, [{ name: "pg", port: 15432, protocol: "TCP" }]);
      assertEquals(byName.endpoints?.[0]?.conditions, {
        ready: true,
        serving: true,
        terminating: false,
      });
      assertEquals(byName.endpoints?.[0]?.nodeName, nodeName);
      assertEquals(byName.endpoints?.[0]?.targetRef?.name, "db");
      assertEquals(byName.metadata?.ownerReferences?.[0]?.kind, "Service");

      const webIps = new Set([await ipOf("web"), await ipOf("api")]);
      await waitFor("the by-label slice with both VMs", async () => {
        const [slice] = await slicesOf(ns, "by-label");
        const ips = new Set(slice?.endpoints?.map((e) => e.addresses[0]));
        return ips.size === 2 && [...webIps].every((ip) => ips.has(ip));
      }, { timeoutMs: 30_000 });
      const [byLabel] = await slicesOf(ns, "by-label");
      assertEquals(byLabel.ports, [
        { name: "http", port: 8080, protocol: "TCP" },
        { name: "metrics", port: 9100, protocol: "TCP" },
      ]);

      await kubectl([
        "patch",
        "vm",
        "web",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"spec":{"runStrategy":"Halted"}}',
      ]);
      await waitFor("web not ready in the slice", async () => {
        const [slice] = await slicesOf(ns, "by-label");
        const web = slice?.endpoints?.find((e) => e.targetRef?.name === "web");
        return web?.conditions?.ready === false;
      }, { timeoutMs: 30_000 });

      await kubectl(["delete", "vm", "api", "-n", ns, "--timeout=60s"]);
      await waitFor("api gone from the slice", async () => {
        const [slice] = await slicesOf(ns, "by-label");
        return slice !== undefined && !slice.endpoints?.some((e) => e.targetRef?.name === "api");
      }, { timeoutMs: 30_000 });

      // An ordinary Service of a plain pod: the built-in controller's slice, ours untouched.
      await runOnNode(ns, "plain", nodeName);
      await kubectl(["label", "pod", "plain", "-n", ns, "app=plain"]);
      await apply(ns, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "plain" },
        spec: { selector: { app: "plain" }, ports: [{ port: 80 }] },
      });
      const podIp =
        (await kubectl(["get", "pod", "plain", "-n", ns, "-o", "jsonpath={.status.podIP}"])).trim();
      await waitFor("the built-in slice with the pod IP", async () => {
        const slices = await slicesOf(ns, "plain");
        return slices.some((slice) =>
          slice.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"] ===
            "endpointslice-controller.k8s.io" &&
          slice.endpoints?.some((e) => e.addresses[0] === podIp && e.conditions?.ready)
        );
      }, { timeoutMs: 30_000 });
      const ours = await slicesOf(ns, "by-name");
      assertEquals(ours.length, 1, "the built-in controllers left the agent's slice alone");

      await kubectl(["delete", "service", "by-name", "-n", ns]);
      await waitFor(
        "the slice of a deleted Service removed",
        async () => (await slicesOf(ns, "by-name")).length === 0,
        { timeoutMs: 60_000 },
      );
    });
  },
});
