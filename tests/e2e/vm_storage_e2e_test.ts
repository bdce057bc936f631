/**
 * IaaS volumes as PersistentVolumes, against the real control plane (its PV controller
 * binds, its protection controllers and garbage collector run) and the ZStack simulator:
 * a claim of a `vkedge.io/zstack` class becomes Bound to a PV the agent provisioned, the
 * data volume is attached to the VirtualMachine that mounts the claim, grows when the claim
 * asks for more, is deleted with its claim under reclaim `Delete` and kept under `Retain`;
 * an RWX claim is refused with a readable event; a kill -9 in the middle of provisioning
 * leaves one volume and one PV.
 */

import type { Event, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { withZStackNode, type ZStackNode } from "../_harness/zstack.ts";

interface SimVolume {
  uuid: string;
  name: string;
  type: "Root" | "Data";
  size: number;
  status: string;
  vmInstanceUuid?: string;
}

const GiB = 1024 ** 3;

async function dataVolumes(node: ZStackNode): Promise<SimVolume[]> {
  const state = await node.sim.state() as unknown as { volumes: SimVolume[] };
  return state.volumes.filter((volume) => volume.type === "Data" && volume.status !== "Deleted");
}

async function apply(ns: string | undefined, object: unknown): Promise<void> {
  await kubectl(["apply", ...(ns ? ["-n", ns] : []), "-f", "-"], { stdin: JSON.stringify(object) });
}

function storageClass(name: string, options: {
  binding: "WaitForFirstConsumer" | "Immediate";
  reclaim: "Delete" | "Retain";
  node?: string;
}) {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name },
    provisioner: "vkedge.io/zstack",
    volumeBindingMode: options.binding,
    reclaimPolicy: options.reclaim,
    allowVolumeExpansion: true,
    parameters: options.node ? { node: options.node } : {},
  };
}

function claim(name: string, className: string, size: string, mode = "ReadWriteOnce") {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name },
    spec: {
      storageClassName: className,
      accessModes: [mode],
      resources: { requests: { storage: size } },
    },
  };
}

async function getClaim(ns: string, name: string): Promise<PersistentVolumeClaim> {
  return await kubectlJson<PersistentVolumeClaim>(["get", "pvc", name, "-n", ns]);
}

async function pvExists(name: string): Promise<PersistentVolume | undefined> {
  const result = await kubectlResult(["get", "pv", name, "-o", "json"]);
  return result.code === 0 ? JSON.parse(result.stdout) as PersistentVolume : undefined;
}

async function waitBound(ns: string, name: string): Promise<PersistentVolumeClaim> {
  let last: PersistentVolumeClaim | undefined;
  await waitFor(`claim ${name} Bound`, async () => {
    last = await getClaim(ns, name);
    return last.status?.phase === "Bound";
  }, { timeoutMs: 90_000 });
  return last!;
}

const classes: string[] = [];

async function withStorageNode(
  prefix: string,
  body: (node: ZStackNode) => Promise<void>,
  slow = false,
): Promise<void> {
  await withZStackNode(prefix, async (node) => {
    try {
      await node.start();
      await body(node);
    } finally {
      await kubectlResult(["delete", "vm", "--all", "-n", node.ns, "--timeout=60s"]);
      await kubectlResult(["delete", "pvc", "--all", "-n", node.ns, "--wait=false"]);
      for (const name of classes.splice(0)) {
        await kubectlResult(["delete", "storageclass", name, "--wait=false"]);
      }
    }
  }, {
    sim: slow ? { jobDurationMs: 4000 } : { jobDurationMs: 50 },
    extraArgs: ["--install-crds"],
  });
}

Deno.test({
  name:
    "storage: a claim of a vkedge.io/zstack class is Bound, attached to its VirtualMachine, grows, and goes with reclaim Delete; RWX is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withStorageNode("vm-storage", async (node) => {
      const { ns, nodeName } = node;
      const wffc = `${ns}-wffc`;
      const immediate = `${ns}-now`;
      classes.push(wffc, immediate);
      await apply(
        undefined,
        storageClass(wffc, { binding: "WaitForFirstConsumer", reclaim: "Delete" }),
      );
      await apply(
        undefined,
        storageClass(immediate, { binding: "Immediate", reclaim: "Delete", node: nodeName }),
      );
      await apply(ns, claim("data", wffc, "2Gi"));
      await apply(ns, {
        apiVersion: "vkedge.io/v1alpha1",
        kind: "VirtualMachine",
        metadata: { name: "db" },
        spec: {
          nodeName,
          image: "zstack/cirros",
          cpu: 1,
          memory: "512Mi",
          disks: [{ name: "data", claimName: "data" }],
        },
      });
      const bound = await waitBound(ns, "data");
      const pvName = `pvc-${bound.metadata!.uid}`;
      assertEquals(bound.spec?.volumeName, pvName);
      const pv = (await pvExists(pvName))!;
      assertEquals(
        pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"],
        "vkedge.io/zstack",
      );
      assertEquals(pv.spec?.claimRef?.uid, bound.metadata?.uid);
      assertEquals(pv.spec?.persistentVolumeReclaimPolicy, "Delete");
      assertEquals(
        pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values,
        [nodeName],
      );
      const vmId = await waitFor("the VM Running", async () => {
        const id = (await kubectl(["get", "vm", "db", "-n", ns, "-o", "jsonpath={.status.vmId}"]))
          .trim();
        const status = await kubectl([
          "get",
          "vm",
          "db",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.printableStatus}",
        ]);
        return status === "Running" && id !== "";
      }, { timeoutMs: 90_000 }).then(async () =>
        (await kubectl(["get", "vm", "db", "-n", ns, "-o", "jsonpath={.status.vmId}"])).trim()
      );
      await waitFor("the data volume attached to the VM", async () => {
        const volumes = await dataVolumes(node);
        return volumes.length === 1 && volumes[0].vmInstanceUuid === vmId;
      }, { timeoutMs: 60_000 });
      assertEquals((await dataVolumes(node))[0].size, 2 * GiB);
      const described = await kubectl(["describe", "pvc", "data", "-n", ns]);
      assertStringIncludes(described, "Used By:");
      assertStringIncludes(described, "db");

      await kubectl([
        "patch",
        "pvc",
        "data",
        "-n",
        ns,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { resources: { requests: { storage: "3Gi" } } } }),
      ]);
      await waitFor("the volume grown to 3 GiB", async () => {
        const [volume] = await dataVolumes(node);
        const claimed = String((await getClaim(ns, "data")).status?.capacity?.storage);
        return volume?.size === 3 * GiB && (claimed === "3Gi" || Number(claimed) === 3 * GiB);
      }, { timeoutMs: 60_000 });

      await apply(ns, claim("shared", immediate, "1Gi", "ReadWriteMany"));
      await waitFor("ProvisioningFailed for the RWX claim", async () => {
        const events = await kubectlJson<{ items: Event[] }>([
          "get",
          "events",
          "-n",
          ns,
          "--field-selector",
          "involvedObject.name=shared,reason=ProvisioningFailed",
        ]);
        return events.items.some((event) =>
          event.message?.includes("ReadWriteMany cannot be given")
        );
      }, { timeoutMs: 30_000 });
      assertEquals((await getClaim(ns, "shared")).status?.phase, "Pending");
      assertEquals((await dataVolumes(node)).length, 1, "no volume for the refused claim");

      await kubectl(["delete", "vm", "db", "-n", ns, "--timeout=90s"]);
      const [kept] = await dataVolumes(node);
      assert(kept !== undefined, "deleting the VM keeps its data volume");
      assertEquals(kept.vmInstanceUuid, undefined, "detached");
      await kubectl(["delete", "pvc", "data", "-n", ns, "--timeout=60s"]);
      await waitFor(
        "the volume deleted in ZStack and its PV gone",
        async () =>
          (await dataVolumes(node)).length === 0 && (await pvExists(pvName)) === undefined,
        {
          timeoutMs: 90_000,
        },
      );
    });
  },
});

Deno.test({
  name:
    "storage: reclaim Retain keeps the volume and its PV after the claim goes; kill -9 during provisioning leaves one volume and one PV",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withStorageNode("vm-storage-kill", async (node) => {
      const { ns, nodeName } = node;
      const retain = `${ns}-retain`;
      classes.push(retain);
      await apply(
        undefined,
        storageClass(retain, { binding: "Immediate", reclaim: "Retain", node: nodeName }),
      );
      await apply(ns, claim("keep", retain, "1Gi"));
      await waitFor("the volume being created", async () => {
        const state = await node.sim.state() as unknown as { volumes: SimVolume[] };
        return state.volumes.some((volume) => volume.type === "Data");
      }, { timeoutMs: 60_000, intervalMs: 100 });
      await node.agent!.kill();
      await node.start();
      const bound = await waitBound(ns, "keep");
      const pvName = `pvc-${bound.metadata!.uid}`;
      assertEquals((await dataVolumes(node)).length, 1, "one volume");
      const pvs = await kubectlJson<{ items: PersistentVolume[] }>(["get", "pv"]);
      assertEquals(
        pvs.items.filter((pv) => pv.spec?.claimRef?.uid === bound.metadata?.uid).length,
        1,
        "one PV",
      );
      await kubectl(["delete", "pvc", "keep", "-n", ns, "--timeout=60s"]);
      await waitFor(
        "the PV Released",
        async () => (await pvExists(pvName))?.status?.phase === "Released",
        {
          timeoutMs: 60_000,
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assertEquals((await dataVolumes(node)).length, 1, "Retain keeps the volume");
      assert((await pvExists(pvName)) !== undefined, "and its PV");
      await kubectlResult(["delete", "pv", pvName, "--wait=false"]);
    }, true);
  },
});
