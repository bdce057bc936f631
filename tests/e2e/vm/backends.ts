/**
 * The backends the VM lifecycle suite runs on: the mock provider (its state file is the
 * IaaS view) and the zstack provider against the ZStack simulator as a separate process
 * (its `/__sim` state and API counts are the IaaS view), and the vsphere provider against
 * govmomi's simulator as a separate process (its `/__sim/state`, with the tasks still running
 * on each VM, and its SOAP call counts are the IaaS view), and the openstack provider
 * against the real Nova API of the OpenStack test stack (Nova's servers and instance
 * actions, read as an admin, are the IaaS view).
 *
 * @module
 */

import { freshNamespace, kubectlResult } from "../../_harness/cluster.ts";
import { freePort, startAgent, uniqueNodeName } from "../../_harness/agent.ts";
import { stopAgent, tail, waitForAgentReady, withZStackNode } from "../../_harness/zstack.ts";
import { readStateFile } from "../../../providers/mock/state_file.ts";
import { withVsphereNode } from "../../_harness/vsphere.ts";
import type { IaasAction, VmBackend, VmNode, VmNodeOptions } from "./suite.ts";
import { withOpenStackNode } from "../../_harness/openstack.ts";
import { call, COMPUTE_VERSION, type NovaServer } from "../../openstack/admin_api.ts";

/** Deletes the VirtualMachines of `ns` while the agent still runs (their finalizers need it). */
async function deleteVirtualMachines(ns: string): Promise<void> {
  await kubectlResult(["delete", "vm", "--all", "-n", ns, "--timeout=60s"]);
}

const MOCK_ACTIONS: Record<IaasAction, string> = {
  reboot: "restart",
  snapshot: "snapshot",
  revert: "restore",
  migrate: "migrate",
  stop: "stop",
  start: "start",
};

/** The mock provider, its VMs read from its state file. */
export const mockBackend: VmBackend = {
  name: "mock",
  image: "vm-image",
  running: "Running",
  stopped: "Stopped",
  async withNode(
    prefix: string,
    body: (node: VmNode) => Promise<void>,
    options: VmNodeOptions = {},
  ) {
    const nodeName = uniqueNodeName(prefix);
    const dir = await Deno.makeTempDir({ prefix: `vkedge-${prefix}-` });
    const stateFile = `${dir}/mock-state.json`;
    const delayMs = options.slow ? 4000 : 200;
    const kubeletPort = freePort();
    const ns = await freshNamespace(prefix);
    const vms = () => readStateFile(stateFile).flatMap((saved) => saved.vm ? [saved.vm] : []);
    const node: VmNode = {
      ns,
      nodeName,
      async start() {
        node.agent = await startAgent({
          nodeName,
          kubeletPort,
          providerConfig: {
            stateFile,
            vm: { powerDelayMs: delayMs, snapshotDelayMs: delayMs, migrationDelayMs: delayMs },
          },
          extraArgs: ["--install-crds"],
        });
        await waitForAgentReady(node.agent);
        return node.agent;
      },
      iaasVm(id: string) {
        const vm = vms().find((candidate) => candidate.id === id);
        if (!vm) return Promise.resolve(undefined);
        const state = vm.transition && vm.transition.until > Date.now()
          ? vm.transition.during
          : vm.transition?.power ?? vm.power;
        const host = vm.transition && vm.transition.until <= Date.now()
          ? vm.transition.host
          : vm.host;
        return Promise.resolve({ id, state, host });
      },
      actions(action: IaasAction) {
        const key = MOCK_ACTIONS[action] as keyof NonNullable<
          ReturnType<typeof vms>[number]
        >["operations"];
        return Promise.resolve(vms().reduce((sum, vm) => sum + (vm.operations[key] ?? 0), 0));
      },
    };
    try {
      await node.start();
      await body(node);
    } catch (error) {
      const log = node.agent ? tail(await node.agent.output().catch(() => ""), 40) : "";
      throw new Error(
        `${error instanceof Error ? error.stack : error}\n--- agent log tail:\n${log}`,
        {
          cause: error,
        },
      );
    } finally {
      if (node.agent) {
        await deleteVirtualMachines(ns);
        await stopAgent(node.agent);
      }
      await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
      await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
};

const ZSTACK_APIS: Record<IaasAction, string[]> = {
  reboot: ["RebootVmInstance"],
  snapshot: ["CreateVolumeSnapshot"],
  revert: ["RevertVolumeFromSnapshot"],
  migrate: ["MigrateVm"],
  stop: ["StopVmInstance"],
  start: ["StartVmInstance"],
};

/** The zstack provider against its own ZStack simulator process. */
export const zstackBackend: VmBackend = {
  name: "zstack",
  image: "zstack/cirros",
  running: "Running",
  stopped: "Stopped",
  async withNode(
    prefix: string,
    body: (node: VmNode) => Promise<void>,
    options: VmNodeOptions = {},
  ) {
    await withZStackNode(prefix, async (zstack) => {
      const node: VmNode = {
        ns: zstack.ns,
        nodeName: zstack.nodeName,
        async start() {
          node.agent = await zstack.start();
          return node.agent;
        },
        async iaasVm(id: string) {
          const state = await zstack.sim.state();
          const vm = state.vms.find((candidate) => candidate.uuid === id);
          if (!vm) return undefined; // expunged (a Destroyed VM is listed until then)
          const host = state.hosts.find((h) => h.uuid === (vm as { hostUuid?: string }).hostUuid);
          return { id, state: vm.state, host: host?.name };
        },
        async actions(action: IaasAction) {
          const { apis } = await zstack.sim.stats();
          return ZSTACK_APIS[action].reduce((sum, api) => sum + (apis[api] ?? 0), 0);
        },
      };
      try {
        await node.start();
        await body(node);
      } finally {
        if (node.agent) await deleteVirtualMachines(node.ns);
      }
    }, {
      sim: options.slow ? { jobDurationMs: 4000, vmBootMs: 500 } : { jobDurationMs: 50 },
      extraArgs: ["--install-crds"],
    });
  },
};

const VSPHERE_METHODS: Record<IaasAction, string[]> = {
  reboot: ["ResetVM_Task"],
  snapshot: ["CreateSnapshot_Task"],
  revert: ["RevertToSnapshot_Task"],
  migrate: ["RelocateVM_Task"],
  stop: ["ShutdownGuest", "PowerOffVM_Task"],
  start: ["PowerOnVM_Task"],
};

/** The simulator's task names that put a VM in a transition, in the suite's words. */
const VSPHERE_TRANSITIONS: [string, string][] = [["Reset", "Rebooting"], [
  "RelocateVm",
  "Migrating",
]];

/** The vsphere provider against its own vSphere simulator (a vCenter with three hosts). */
export const vsphereBackend: VmBackend = {
  name: "vsphere",
  image: "vsphere/cirros",
  running: "poweredOn",
  stopped: "poweredOff",
  async withNode(
    prefix: string,
    body: (node: VmNode) => Promise<void>,
    options: VmNodeOptions = {},
  ) {
    await withVsphereNode(prefix, async (vsphere) => {
      const node: VmNode = {
        ns: vsphere.ns,
        nodeName: vsphere.nodeName,
        async start() {
          node.agent = await vsphere.start();
          return node.agent;
        },
        async iaasVm(id: string) {
          const vm = (await vsphere.sim.vms()).find((candidate) => candidate.ref === id);
          if (vm === undefined) return undefined; // destroyed
          const transition = VSPHERE_TRANSITIONS.find(([task]) => vm.tasks.includes(task));
          return { id, state: transition ? transition[1] : vm.powerState, host: vm.host };
        },
        async actions(action: IaasAction) {
          const { calls } = await vsphere.sim.stats();
          return VSPHERE_METHODS[action].reduce((sum, method) => sum + (calls[method] ?? 0), 0);
        },
      };
      try {
        await node.start();
        await body(node);
      } finally {
        if (node.agent) await deleteVirtualMachines(node.ns);
      }
    }, {
      sim: options.slow ? { taskDelayMs: 2500, guestBootMs: 500 } : { guestBootMs: 300 },
      extraArgs: ["--install-crds"],
    });
  },
};

/** Nova's instance action of each counted action (`os-instance-actions`). */
const NOVA_ACTIONS: Record<IaasAction, string[]> = {
  reboot: ["reboot"],
  snapshot: ["createImage"],
  revert: ["rebuild"],
  migrate: ["live-migration", "migrate"],
  stop: ["stop"],
  start: ["start"],
};

/** Nova's transitional statuses in the words the suite waits for. */
function novaState(server: NovaServer): string {
  if (["REBOOT", "HARD_REBOOT"].includes(server.status)) return "Rebooting";
  if (server.status === "MIGRATING" || server["OS-EXT-STS:task_state"] === "migrating") {
    return "Migrating";
  }
  return server.status;
}

/**
 * The openstack provider against the OpenStack test stack (one stack per test run, shared):
 * Nova's fake hypervisor does everything at once, so the `slow` node (for the kill tests)
 * puts its servers' names under `vkedge-slow-`, whose actions the stack's driver paces.
 */
export const openstackBackend: VmBackend = {
  name: "openstack",
  image: "openstack/tiny",
  running: "ACTIVE",
  stopped: "SHUTOFF",
  // Nova builds a server through the scheduler, conductor and compute over RabbitMQ: with
  // other tests' creates beside it on 2 cores, a build took 52 s.
  bootTimeoutMs: 180_000,
  async withNode(
    prefix: string,
    body: (node: VmNode) => Promise<void>,
    options: VmNodeOptions = {},
  ) {
    await withOpenStackNode(prefix, async (openstack) => {
      const node: VmNode = {
        ns: openstack.ns,
        nodeName: openstack.nodeName,
        async start() {
          node.agent = await openstack.start();
          return node.agent;
        },
        async iaasVm(id: string) {
          const admin = await openstack.admin();
          const reply = await call<{ server?: NovaServer }>(
            admin,
            "GET",
            `${admin.endpoints.compute}/servers/${id}`,
            { headers: COMPUTE_VERSION, expect: [200, 404] },
          );
          const server = reply.server;
          if (!server || ["DELETED", "SOFT_DELETED"].includes(server.status)) return undefined;
          return {
            id,
            state: novaState(server),
            host: server["OS-EXT-SRV-ATTR:host"] ?? undefined,
          };
        },
        async actions(action: IaasAction) {
          const admin = await openstack.admin();
          let count = 0;
          for (const server of await openstack.servers()) {
            const reply = await call<{ instanceActions: { action: string }[] }>(
              admin,
              "GET",
              `${admin.endpoints.compute}/servers/${server.id}/os-instance-actions`,
              { headers: COMPUTE_VERSION },
            );
            count += reply.instanceActions.filter((a) => NOVA_ACTIONS[action].includes(a.action))
              .length;
          }
          return count;
        },
      };
      try {
        await node.start();
        await body(node);
      } finally {
        if (node.agent) await deleteVirtualMachines(node.ns);
      }
    }, { slow: options.slow, extraArgs: ["--install-crds"] });
  },
};
