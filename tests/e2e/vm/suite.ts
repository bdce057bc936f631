/**
 * The VM lifecycle end-to-end tests, written once and run per provider (mock, zstack; the
 * vSphere and OpenStack providers join with a backend of their own). Each test starts a
 * node of its own (agent and, where there is one, the IaaS simulator), drives it with
 * `kubectl` only, as a user would, and checks the IaaS side through the backend: the VM's
 * identity, power state and host, and how often the IaaS carried out each action.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../../_harness/cluster.ts";
import type { AgentProcess } from "../../_harness/agent.ts";

/** The IaaS view of one VM. */
export interface IaasVm {
  id: string;
  /** Power state in the backend's words (Running, Stopped, …). */
  state: string;
  host?: string;
}

/** The actions a backend counts. */
export type IaasAction = "reboot" | "snapshot" | "revert" | "migrate" | "stop" | "start";

/** One node (agent plus backend) for one test. */
export interface VmNode {
  ns: string;
  nodeName: string;
  /** Starts (or restarts) the agent and waits until the node is Ready. */
  start(): Promise<AgentProcess>;
  agent?: AgentProcess;
  /** The VM `id` as the IaaS has it, `undefined` once it is gone (expunged). */
  iaasVm(id: string): Promise<IaasVm | undefined>;
  /** How many times the IaaS carried out `action` (on this node's VMs). */
  actions(action: IaasAction): Promise<number>;
}

/** Options for a node. */
export interface VmNodeOptions {
  /** Make power, snapshot and migration take seconds, so a kill can land in the middle. */
  slow?: boolean;
}

/** A provider under test. */
export interface VmBackend {
  name: string;
  /** The image VirtualMachines use. */
  image: string;
  /** The IaaS word for a running and a stopped VM. */
  running: string;
  stopped: string;
  /** How long a new VM may take to be Running with an IP (default 60 s). */
  bootTimeoutMs?: number;
  withNode(
    prefix: string,
    body: (node: VmNode) => Promise<void>,
    options?: VmNodeOptions,
  ): Promise<void>;
}

interface VmStatus {
  printableStatus?: string;
  ready?: boolean;
  ip?: string;
  host?: string;
  vmId?: string;
  lastAction?: { id: string; phase: string; message?: string };
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

async function vmStatus(ns: string, name: string): Promise<VmStatus> {
  const vm = await kubectlJson<{ status?: VmStatus }>(["get", "vm", name, "-n", ns]);
  return vm.status ?? {};
}

async function waitVm(
  ns: string,
  name: string,
  what: string,
  check: (status: VmStatus) => boolean,
  timeoutMs = 60_000,
): Promise<VmStatus> {
  let last: VmStatus = {};
  await waitFor(`${what} (VirtualMachine ${name})`, async () => {
    last = await vmStatus(ns, name);
    return check(last);
  }, { timeoutMs, intervalMs: 300 }).catch((error) => {
    throw new Error(`${error.message}; last status ${JSON.stringify(last)}`);
  });
  return last;
}

function manifest(kind: string, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "vkedge.io/v1alpha1", kind, metadata: { name }, spec });
}

async function create(ns: string, kind: string, name: string, spec: Record<string, unknown>) {
  await kubectl(["apply", "-n", ns, "-f", "-"], { stdin: manifest(kind, name, spec) });
}

async function createVm(
  backend: VmBackend,
  node: VmNode,
  name: string,
  spec: Record<string, unknown> = {},
): Promise<VmStatus> {
  await create(node.ns, "VirtualMachine", name, {
    nodeName: node.nodeName,
    image: backend.image,
    cpu: 1,
    memory: "512Mi",
    ...spec,
  });
  return await waitVm(
    node.ns,
    name,
    "Running with an IP",
    (s) => s.printableStatus === "Running" && s.ready === true && !!s.ip && !!s.vmId,
    backend.bootTimeoutMs,
  );
}

async function podReady(ns: string, name: string): Promise<boolean> {
  const pod = await kubectlJson<{ status?: { conditions?: { type: string; status: string }[] } }>(
    ["get", "pod", name, "-n", ns],
  );
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

async function podUid(ns: string, name: string): Promise<string> {
  return (await kubectlJson<{ metadata: { uid: string } }>(["get", "pod", name, "-n", ns]))
    .metadata.uid;
}

async function patchVm(ns: string, name: string, patch: unknown): Promise<void> {
  await kubectl(["patch", "vm", name, "-n", ns, "--type=merge", "-p", JSON.stringify(patch)]);
}

async function phaseOf(ns: string, resource: string, name: string): Promise<string | undefined> {
  const object = await kubectlJson<{ status?: { phase?: string } }>([
    "get",
    resource,
    name,
    "-n",
    ns,
  ]);
  return object.status?.phase;
}

/** Registers the VM lifecycle tests for `backend`. */
export function vmLifecycleTests(backend: VmBackend): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `${backend.name}: ${name}`,
      fn,
      sanitizeOps: false,
      sanitizeResources: false,
    });

  test("VirtualMachine: create → Running with IP; halt → Stopped, same VM kept, pod not Ready; start → same VM; restart acknowledged once; delete → VM gone", async () => {
    await backend.withNode("vm-power", async (node) => {
      const { ns } = node;
      const created = await createVm(backend, node, "web");
      const id = created.vmId!;
      assertEquals((await node.iaasVm(id))?.state, backend.running);
      const table = await kubectl(["get", "vm", "-n", ns]);
      for (const column of ["STATUS", "READY", "IP", "HOST", "AGE", "Running", created.ip!]) {
        assertStringIncludes(table, column);
      }

      await patchVm(ns, "web", { spec: { runStrategy: "Halted" } });
      await waitVm(ns, "web", "Stopped", (s) => s.printableStatus === "Stopped" && !s.ready);
      assertEquals((await node.iaasVm(id))?.state, backend.stopped, "the VM is kept, stopped");
      assertEquals(await podReady(ns, "web"), false, "the VM-Pod stays, not Ready");
      const reason = await kubectl([
        "get",
        "pod",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].reason}",
      ]);
      assert(reason.trim() !== "", "the pod says why it is not Ready");

      await patchVm(ns, "web", { spec: { runStrategy: "Always" } });
      const started = await waitVm(
        ns,
        "web",
        "Running again",
        (s) => s.printableStatus === "Running" && s.ready === true,
      );
      assertEquals(started.vmId, id, "the same VM came back");
      assertEquals((await node.iaasVm(id))?.state, backend.running);

      const reboots = await node.actions("reboot");
      await patchVm(ns, "web", { spec: { action: { id: "restart-1", type: "Restart" } } });
      const restarted = await waitVm(
        ns,
        "web",
        "restart acknowledged",
        (s) => s.lastAction?.id === "restart-1" && s.lastAction.phase === "Succeeded",
      );
      assertEquals(restarted.vmId, id);
      // Any later reconcile (resync, other updates) must not replay it.
      await patchVm(ns, "web", { metadata: { labels: { touched: "yes" } } });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assertEquals(await node.actions("reboot"), reboots + 1, "exactly one reboot");
      const events = await kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        "involvedObject.kind=VirtualMachine,reason=Restarted",
        "-o",
        "name",
      ]);
      assertEquals(events.trim().split("\n").filter(Boolean).length, 1, "one Restarted event");

      await kubectl(["delete", "vm", "web", "-n", ns, "--timeout=60s"]);
      await waitFor("the VM expunged", async () => (await node.iaasVm(id)) === undefined, {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      const pods = await kubectl(["get", "pods", "-n", ns, "-o", "name"]);
      assertEquals(pods.trim(), "", "the VM-Pod is gone with it");
    });
  });

  test("VirtualMachineSnapshot → readyToUse; restore while running refused with a condition; restore when stopped completes", async () => {
    await backend.withNode("vm-snap", async (node) => {
      const { ns } = node;
      await createVm(backend, node, "db");
      await create(ns, "VirtualMachineSnapshot", "db-1", { virtualMachineName: "db" });
      await waitFor("snapshot ready", async () => {
        const snapshot = await kubectlJson<{ status?: { readyToUse?: boolean; phase?: string } }>(
          ["get", "vmsnapshot", "db-1", "-n", ns],
        );
        return snapshot.status?.readyToUse === true && snapshot.status.phase === "Succeeded";
      }, { timeoutMs: 60_000 });
      assertEquals(await node.actions("snapshot"), 1);

      await create(ns, "VirtualMachineRestore", "db-r1", {
        virtualMachineName: "db",
        virtualMachineSnapshotName: "db-1",
      });
      let refusal = "";
      await waitFor("restore refused", async () => {
        refusal = await kubectl([
          "get",
          "vmrestore",
          "db-r1",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.conditions[?(@.type=='Failure')].message}",
        ]);
        return refusal.includes("needs it stopped");
      }, { timeoutMs: 30_000 });
      assertStringIncludes(refusal, "vkedge vm stop db");
      assertEquals(await node.actions("revert"), 0, "nothing reverted while running");

      await patchVm(ns, "db", { spec: { runStrategy: "Halted" } });
      await waitVm(ns, "db", "Stopped", (s) => s.printableStatus === "Stopped");
      await create(ns, "VirtualMachineRestore", "db-r2", {
        virtualMachineName: "db",
        virtualMachineSnapshotName: "db-1",
      });
      await waitFor("restore complete", async () => {
        const complete = await kubectl([
          "get",
          "vmrestore",
          "db-r2",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.complete}",
        ]);
        return complete.trim() === "true";
      }, { timeoutMs: 60_000 });
      assertEquals(await node.actions("revert"), 1, "one revert");
      const listed = await kubectl(["get", "vm,vmsnapshot,vmrestore", "-n", ns]);
      assertStringIncludes(listed, "db-1");
      assertStringIncludes(listed, "db-r2");
    });
  });

  test("VirtualMachineMigration → host changes, Succeeded; to a host that cannot take it → Failed with the reason", async () => {
    await backend.withNode("vm-mig", async (node) => {
      const { ns } = node;
      const created = await createVm(backend, node, "app");
      const source = created.host!;
      assert(source, "the VM's host is shown");
      await create(ns, "VirtualMachineMigration", "app-m1", { virtualMachineName: "app" });
      await waitFor(
        "migration Succeeded",
        async () => (await phaseOf(ns, "vmmigration", "app-m1")) === "Succeeded",
        { timeoutMs: 60_000 },
      );
      const moved = await waitVm(ns, "app", "on a new host", (s) => !!s.host && s.host !== source);
      assertEquals((await node.iaasVm(moved.vmId!))?.host, moved.host, "the IaaS agrees");
      assertEquals(await node.actions("migrate"), 1);

      await create(ns, "VirtualMachineMigration", "app-m2", {
        virtualMachineName: "app",
        targetHost: "no-such-host",
      });
      await waitFor(
        "migration Failed",
        async () => (await phaseOf(ns, "vmmigration", "app-m2")) === "Failed",
        { timeoutMs: 30_000 },
      );
      const message = await kubectl([
        "get",
        "vmmigration",
        "app-m2",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.message}",
      ]);
      assertStringIncludes(message, "no-such-host");
      assertStringIncludes(message, "candidates");
      assertEquals(await node.actions("migrate"), 1, "no second migration");
      const listed = await kubectl(["get", "vm,vmmigration", "-n", ns]);
      assertStringIncludes(listed, "Succeeded");
      assertStringIncludes(listed, "Failed");
    });
  });

  test("kill -9 of the agent in the middle of a restart, a snapshot and a migration, then restart: each completes exactly once", async () => {
    await backend.withNode("vm-kill", async (node) => {
      const { ns } = node;
      const created = await createVm(backend, node, "k");
      const id = created.vmId!;
      const killAndRestart = async () => {
        await node.agent!.kill();
        await node.start();
      };

      const reboots = await node.actions("reboot");
      await patchVm(ns, "k", { spec: { action: { id: "kill-restart", type: "Restart" } } });
      await waitVm(
        ns,
        "k",
        "restart in progress",
        (s) => s.lastAction?.id === "kill-restart" && s.lastAction.phase === "InProgress",
        30_000,
      );
      await waitFor(
        "the IaaS rebooting the VM",
        async () => (await node.iaasVm(id))?.state === "Rebooting",
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      await killAndRestart();
      await waitVm(
        ns,
        "k",
        "restart done after the agent restart",
        (s) =>
          s.lastAction?.id === "kill-restart" && s.lastAction.phase === "Succeeded" &&
          s.printableStatus === "Running",
        90_000,
      );
      assertEquals(await node.actions("reboot"), reboots + 1, "one reboot");

      await create(ns, "VirtualMachineSnapshot", "k-1", { virtualMachineName: "k" });
      await waitFor(
        "snapshot in progress",
        async () =>
          (await phaseOf(ns, "vmsnapshot", "k-1")) === "InProgress" &&
          (await node.actions("snapshot")) === 1,
        {
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      await killAndRestart();
      await waitFor(
        "snapshot Succeeded",
        async () => (await phaseOf(ns, "vmsnapshot", "k-1")) === "Succeeded",
        { timeoutMs: 90_000 },
      );
      assertEquals(await node.actions("snapshot"), 1, "one snapshot taken");

      await create(ns, "VirtualMachineMigration", "k-m", { virtualMachineName: "k" });
      await waitFor(
        "migration Running",
        async () =>
          (await phaseOf(ns, "vmmigration", "k-m")) === "Running" &&
          (await node.iaasVm(id))?.state === "Migrating",
        {
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      await killAndRestart();
      await waitFor(
        "migration Succeeded",
        async () => (await phaseOf(ns, "vmmigration", "k-m")) === "Succeeded",
        { timeoutMs: 90_000 },
      );
      assertEquals(await node.actions("migrate"), 1, "one migration");
      const after = await waitVm(ns, "k", "Running", (s) => s.printableStatus === "Running");
      assertEquals(after.vmId, id, "the same VM throughout");
    }, { slow: true });
  });

  test("a VM-Pod deleted by anything but the VirtualMachine (delete, force delete while the agent is away) keeps its VM; a new VM-Pod adopts it", async () => {
    await backend.withNode("vm-keep", async (node) => {
      const { ns } = node;
      const created = await createVm(backend, node, "keep");
      const id = created.vmId!;
      const firstPod = await podUid(ns, "keep");
      await kubectl(["delete", "pod", "keep", "-n", ns, "--wait=false"]);
      await waitFor("a new VM-Pod", async () => {
        const uid = await podUid(ns, "keep").catch(() => firstPod);
        return uid !== firstPod;
      }, { timeoutMs: 60_000 });
      const again = await waitVm(
        ns,
        "keep",
        "Running",
        (s) => s.printableStatus === "Running" && !!s.ready,
      );
      assertEquals(again.vmId, id, "the same VM");
      assertEquals((await node.iaasVm(id))?.state, backend.running);
      const kept = await kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        "reason=VirtualMachineKept",
        "-o",
        "name",
      ]);
      assert(kept.trim() !== "", "a VirtualMachineKept event says the VM was kept");

      await node.agent!.kill();
      const secondPod = await podUid(ns, "keep");
      await kubectl(["delete", "pod", "keep", "-n", ns, "--force", "--grace-period=0"]);
      await node.start();
      await waitFor("a third VM-Pod", async () => {
        const uid = await podUid(ns, "keep").catch(() => secondPod);
        return uid !== secondPod;
      }, { timeoutMs: 60_000 });
      const third = await waitVm(
        ns,
        "keep",
        "Running",
        (s) => s.printableStatus === "Running" && !!s.ready,
      );
      assertEquals(third.vmId, id, "still the same VM");
      assertEquals((await node.iaasVm(id))?.state, backend.running);
    });
  });
}

/** Deletes what a test left, tolerating what is gone already. */
export async function deleteVms(ns: string): Promise<void> {
  await kubectlResult(["delete", "vm", "--all", "-n", ns, "--wait=false"]);
}
