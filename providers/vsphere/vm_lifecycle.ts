/**
 * A pod's VM made and removed. Creation clones the template named by the image into the
 * placement's folder, pool (and host, datastore) with the pod's size, network and
 * extraConfig (ownership, the pod record, guestinfo user data and metadata), then powers
 * it on. The VM name (`vkedge-<namespace>.<name>`) is unique in the folder, so a clone
 * repeated after an agent restart fails with `DuplicateName` and the VM of the first one
 * is adopted when it serves the same workload: a kill -9 during creates never leaves two
 * VMs. Removal powers the VM off and destroys it; a VM already gone is fine.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { AlreadyExistsError, UnavailableError } from "../../lib/provider.ts";
import { isFault, toProviderError } from "./faults.ts";
import { base64Text } from "./base64.ts";
import { identityKey, identityOf, keys, nodeOwner, vmNameOf } from "./identity.ts";
import { encodePodRecord } from "./pod_record.ts";
import { networkOf, type ValidatedPod, vmSizeOf } from "./pod_to_vm.ts";
import { metadataOf, userDataOf } from "./user_data.ts";
import {
  describeVm,
  reread,
  resultRef,
  setExtraConfig,
  type VmActionContext,
  vmTask,
} from "./vm_action.ts";
import { cloneArgsXml, nicChangeXml, reconfigArgsXml } from "./vm_specs.ts";
import type { TrackedPod } from "./vm_tracker.ts";

/** The extraConfig a new VM of `pod` gets. */
export async function creationExtraConfig(
  pod: Pod,
  validated: ValidatedPod,
  owner: { clusterName: string; nodeName: string },
): Promise<[string, string][]> {
  const { identity, container } = validated;
  return [
    [keys.cluster, owner.clusterName],
    [keys.node, nodeOwner(owner.clusterName, owner.nodeName)],
    [keys.namespace, identity.namespace],
    [keys.pod, identity.name],
    [keys.uid, identity.uid],
    [keys.podUid, pod.metadata?.uid ?? identity.uid],
    [keys.record, await encodePodRecord(pod)],
    [keys.power, "on"],
    [keys.metadata, base64Text(metadataOf(pod, identity.uid))],
    [keys.metadataEncoding, "base64"],
    [keys.userData, base64Text(userDataOf(pod, container))],
    [keys.userDataEncoding, "base64"],
  ];
}

/** What {@linkcode createVm} needs besides the action context. */
export interface CreateVmOptions {
  pod: Pod;
  validated: ValidatedPod;
  owner: { clusterName: string; nodeName: string };
  signal: AbortSignal;
}

/** Clones and powers on the pod's VM, or adopts the one a repeated clone ran into. */
export async function createVm(
  context: VmActionContext,
  tracked: TrackedPod,
  options: CreateVmOptions,
): Promise<void> {
  const { pod, validated, signal } = options;
  const key = identityKey(validated.identity);
  const name = vmNameOf(validated.identity.namespace, validated.identity.name);
  try {
    const placement = await context.inventory.placement(signal);
    const template = await context.inventory.template(validated.template, signal);
    const networkName = networkOf(pod) ?? context.config.networks.default;
    let nicChange: string | undefined;
    if (networkName !== undefined && template.nic && template.nic.network !== networkName) {
      nicChange = nicChangeXml(template.nic, await context.inventory.network(networkName, signal));
    }
    const size = vmSizeOf(validated.container, context.config.defaults);
    tracked.log.append(
      `create requested: template ${template.name}, ${size.numCpu} vCPU, ${size.memoryMB} MiB, network ${
        networkName ?? template.nic?.network ?? "(the template's)"
      }, resource pool of ${placement.computeName}`,
    );
    const extraConfig = await creationExtraConfig(pod, validated, options.owner);
    let vmRef;
    try {
      const result = await vmTask(
        context,
        "CloneVM_Task",
        template.ref,
        cloneArgsXml({
          folder: placement.vmFolder,
          name,
          pool: placement.pool,
          host: placement.host,
          datastore: placement.datastore,
          numCpu: size.numCpu,
          memoryMB: size.memoryMB,
          extraConfig,
          nicChange,
        }),
        signal,
      );
      vmRef = resultRef(result);
    } catch (error) {
      if (!isFault(error, "DuplicateName")) throw error;
      await context.tracker.refresh(signal);
      const found = context.tracker.vmNamed(name);
      const serves = found && identityOf(found.extraConfig);
      if (found === undefined || (serves !== undefined && serves.uid !== validated.identity.uid)) {
        throw new AlreadyExistsError(
          `vsphere provider: pod ${key}: a VM named ${name} exists in the folder but serves ${
            serves ? `workload uid "${serves.uid}"` : "no pod"
          }; expected it gone before creating workload uid "${validated.identity.uid}"`,
          { cause: error },
        );
      }
      tracked.log.append(
        `VM ${name} (${found.ref.value}) exists already (an earlier clone): adopted`,
      );
      vmRef = found.ref;
    }
    if (vmRef === undefined) {
      throw new UnavailableError(
        `vsphere provider: pod ${key}: expected CloneVM_Task to return the new VM, found none`,
      );
    }
    let vm = await context.tracker.refreshVm(vmRef, signal);
    if (vm === undefined) {
      throw new UnavailableError(
        `vsphere provider: pod ${key}: VM ${vmRef.value} is gone after its clone`,
      );
    }
    if (
      vm.extraConfig.get(keys.uid) !== validated.identity.uid || vm.numCpu !== size.numCpu ||
      vm.memoryMB !== size.memoryMB
    ) {
      // The simulator drops a clone spec's config; vCenter applies it and this is skipped.
      tracked.log.append(`VM ${vm.name} lacks the clone's size or extraConfig: reconfiguring it`);
      await vmTask(context, "ReconfigVM_Task", vm.ref, reconfigArgsXml(extraConfig, size), signal);
      vm = await context.tracker.refreshVm(vmRef, signal);
      if (vm === undefined) {
        throw new UnavailableError(
          `vsphere provider: pod ${key}: VM ${vmRef.value} is gone after its clone`,
        );
      }
    }
    tracked.vm = vm;
    tracked.creating = undefined;
    tracked.log.append(`cloned as VM ${vm.name} (${vm.ref.value}); powering on`);
    if (vm.power !== "poweredOn") {
      try {
        await vmTask(context, "PowerOnVM_Task", vm.ref, "", signal);
      } catch (error) {
        if (!isFault(error, "InvalidPowerState")) throw error;
      }
    }
    await reread(context, tracked, signal);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: creating VM ${name} for pod ${key}`);
  }
}

/** Powers a VM vkedge wants on (`guestinfo.vkedge.power: on`) on: an interrupted creation. */
export async function resumePowerOn(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<void> {
  const vm = tracked.vm;
  if (vm === undefined || vm.power !== "poweredOff" || vm.extraConfig.get(keys.power) !== "on") {
    return;
  }
  tracked.log.append(
    `VM ${vm.name} (${vm.ref.value}) is off but vkedge wants it on (an interrupted creation): powering on`,
  );
  try {
    await vmTask(context, "PowerOnVM_Task", vm.ref, "", signal);
  } catch (error) {
    if (!isFault(error, "InvalidPowerState")) throw error;
  }
  await reread(context, tracked, signal);
}

/** Writes the pod's record and UID to the VM when they changed (an update, an adoption). */
export async function rememberPod(
  context: VmActionContext,
  tracked: TrackedPod,
  pod: Pod,
  signal: AbortSignal,
): Promise<void> {
  const vm = tracked.vm;
  if (vm === undefined) return;
  const record = await encodePodRecord(pod);
  const podUid = pod.metadata?.uid ?? tracked.identity.uid;
  const entries: [string, string][] = [];
  if (vm.extraConfig.get(keys.record) !== record) entries.push([keys.record, record]);
  if (vm.extraConfig.get(keys.podUid) !== podUid) entries.push([keys.podUid, podUid]);
  if (entries.length === 0) return;
  try {
    await setExtraConfig(context, vm.ref, entries, signal);
    await reread(context, tracked, signal);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: updating ${describeVm(tracked)}`);
  }
}

/** Powers the VM off and destroys it; a VM already gone is fine. */
export async function destroyVm(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<void> {
  const vm = tracked.vm;
  if (vm === undefined) return;
  const what = describeVm(tracked);
  try {
    tracked.log.append(`delete requested: power off and destroy ${vm.name}`);
    if (vm.power !== "poweredOff") {
      try {
        await vmTask(context, "PowerOffVM_Task", vm.ref, "", signal);
      } catch (error) {
        if (!isFault(error, "InvalidPowerState", "InvalidState")) throw error;
      }
    }
    await vmTask(context, "Destroy_Task", vm.ref, "", signal);
  } catch (error) {
    if (isFault(error, "ManagedObjectNotFound")) return;
    throw toProviderError(error, `vsphere provider: destroying ${what}`);
  }
}

/** Leaves the VM running and no longer this node's: its `guestinfo.vkedge.node` is cleared. */
export async function releaseVm(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<void> {
  const vm = tracked.vm;
  if (vm === undefined) return;
  try {
    tracked.log.append(`VM ${vm.name} released: left running, no longer this node's`);
    await setExtraConfig(context, vm.ref, [[keys.node, ""]], signal);
  } catch (error) {
    if (isFault(error, "ManagedObjectNotFound")) return;
    throw toProviderError(error, `vsphere provider: releasing ${describeVm(tracked)}`);
  }
}
