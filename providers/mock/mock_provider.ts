/**
 * The mock provider: pods live in memory (and in the state file, when configured, so that
 * they outlive the agent process), run at once with a stable pod IP, write a readable log
 * and report deterministic, monotonically increasing usage. Behind every pod is a simulated
 * VM that powers off and on, reboots, is snapshotted, restored and migrated between the
 * configured hosts, each action taking its configured delay, so that the VirtualMachine
 * controllers run on it as on an IaaS; and volumes for PersistentVolumeClaims, attached to
 * those VMs and kept when they go. It is a product feature (demos, benchmarks,
 * conformance runs), so it behaves like a small, honest kubelet.
 *
 * This class is the contract's facade over files named after their jobs: `pod_lifecycle.ts`
 * (create, update, delete, restarts), `pod_records.ts` and `pod_status.ts` (the pods),
 * `container_runs.ts` (their processes), `container_io.ts` (logs, exec, attach,
 * port-forward, probes), `vm_capabilities.ts` over `virtual_machine.ts` and
 * `vm_simulator.ts` (their VMs) and `volumes.ts` (the volumes), `faults.ts`,
 * `usage_model.ts` and `stats_summary.ts`, `node_description.ts`, `state_store.ts` over
 * `state_file.ts`; the generic parts come from the provider kit.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import {
  type AttachOptions,
  type AttachToContainer,
  type ByteStream,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ContainerRestarter,
  type DialOptions,
  type ExecInContainer,
  type ExecOptions,
  type MetricsResource,
  type NodeStatusNotifier,
  type PodDialer,
  type PodNotifier,
  type PodRef,
  type PortForwarder,
  type PortForwardOptions,
  type Provider,
  type ProviderRuntimeOptions,
  type ProvisionedVolume,
  type RestartOptions,
  type StatsSummary,
  type StopOptions,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import {
  CallbackSet,
  describeNode,
  type MetricFamily,
  parseQuantity,
  podKey,
  resourceMetricsFromSummary,
  type Summary,
} from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import { ContainerIo } from "./container_io.ts";
import { Faults, type MockFault } from "./faults.ts";
import { mockNodeDescription } from "./node_description.ts";
import { MockPodLifecycle } from "./pod_lifecycle.ts";
import { PodRecords } from "./pod_records.ts";
import type { VmOperationCounts, VolumeOperationCounts } from "./state_file.ts";
import { MockStateStore } from "./state_store.ts";
import { statsSummary } from "./stats_summary.ts";
import { UsageModel } from "./usage_model.ts";
import type { MockVirtualMachineState } from "./virtual_machine.ts";
import { MockVmCapabilities } from "./vm_capabilities.ts";
import { VmSimulator } from "./vm_simulator.ts";
import { MockVolumes } from "./volumes.ts";

export type { MockFault } from "./faults.ts";
export type {
  VmOperation,
  VmOperationCounts,
  VolumeOperation,
  VolumeOperationCounts,
} from "./state_file.ts";
export type { MockPowerState, MockVirtualMachineState } from "./virtual_machine.ts";

/** Options of the provider besides its configuration. */
export type MockProviderOptions = ProviderRuntimeOptions;

/**
 * In-memory provider implementing pods, notifications, logs, stats, resource metrics, the
 * VM capabilities (power, snapshots, migration) and volumes, optionally kept in a state file
 * across restarts. Faults can be injected at runtime with `setHealthy(false)` or through
 * the fault file.
 */
export class MockProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    StatsSummary,
    MetricsResource,
    VirtualMachinePower,
    VirtualMachineSnapshots,
    VirtualMachineMigration,
    VolumeProvisioner,
    ExecInContainer,
    AttachToContainer,
    PortForwarder,
    ContainerRestarter,
    PodDialer {
  /** Provider name. */
  readonly name = "mock";
  readonly #config: MockConfig;
  readonly #options: MockProviderOptions;
  readonly #now: () => number;
  readonly #startTime: number;
  readonly #bootId = crypto.randomUUID();
  readonly #stopped: AbortSignal;
  readonly #faults: Faults;
  readonly #pods: PodRecords;
  readonly #usage: UsageModel;
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  readonly #state: MockStateStore;
  readonly #vms: VmSimulator;
  readonly #lifecycle: MockPodLifecycle;
  readonly #io: ContainerIo;
  readonly #vmCapabilities: MockVmCapabilities;
  readonly #volumes: MockVolumes;

  /** Creates the provider from a validated configuration. */
  constructor(config: MockConfig, options: MockProviderOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startTime = this.#now();
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#faults = new Faults(config.faultFile);
    this.#state = new MockStateStore(config.stateFile);
    this.#pods = new PodRecords(config.podCidr, { hosts: config.vm.hosts });
    this.#usage = new UsageModel({
      startTime: this.#startTime,
      heartbeatSeconds: config.logHeartbeatSeconds,
    });
    this.#volumes = new MockVolumes({
      config: config.volumes,
      now: this.#now,
      stopped: this.#stopped,
      faults: this.#faults,
      podOfVm: (vmId) => {
        const record = this.#pods.all().find((candidate) => candidate.vm.id === vmId);
        return record === undefined ? undefined : podKey(record.pod);
      },
      changed: () => this.#state.save((file) => file.saveVolumes()),
    });
    this.#lifecycle = new MockPodLifecycle({
      pods: this.#pods,
      usage: this.#usage,
      volumes: this.#volumes,
      faults: this.#faults,
      now: this.#now,
      hostIp: options.internalIp,
      save: (write) => this.#state.save(write),
    });
    this.#vms = new VmSimulator({
      config: config.vm,
      now: this.#now,
      stopped: this.#stopped,
      faults: this.#faults,
      changeOptions: (record) => this.#lifecycle.changeOptions(record),
      changed: (record) => this.#lifecycle.changed(record),
    });
    this.#vmCapabilities = new MockVmCapabilities({
      pods: this.#pods,
      vms: this.#vms,
      volumes: this.#volumes,
    });
    this.#io = new ContainerIo({
      pods: this.#pods,
      logHeartbeatSeconds: config.logHeartbeatSeconds,
      now: this.#now,
      stopped: this.#stopped,
    });
    this.#state.restore({
      pods: this.#pods,
      volumes: this.#volumes,
      resume: (record) => {
        this.#vms.resume(record);
        this.#lifecycle.endOrphanedRuns(record);
      },
    });
  }

  /** Marks the backend healthy or not; while unhealthy `ping` throws `UnavailableError`. */
  setHealthy(healthy: boolean): void {
    this.#faults.setHealthy(healthy);
  }

  /** Reads the fault file (if configured) and returns the faults it currently injects. */
  activeFaults(): Promise<Set<MockFault>> {
    return this.#faults.activeFaults();
  }

  // -- NodeProvider ---------------------------------------------------------

  /** Succeeds unless the provider was marked unhealthy or the fault file contains `ping`. */
  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#faults.checkPing();
  }

  /** Registers a node status callback; the mock only calls it when capacity changes (never today). */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeCallbacks.add(signal, callback);
  }

  /** Returns the node with capacity = allocatable and labels from the configuration, and nodeInfo. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const { nodeName, operatingSystem } = this.#options;
      return describeNode(
        node,
        mockNodeDescription(this.#config, { nodeName, operatingSystem, bootId: this.#bootId }),
      );
    });
  }

  // -- PodLifecycleHandler (pod_lifecycle.ts) --------------------------------

  /** Starts the pod at once, or hands it the VM of a pod of its workload. */
  createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.createPod(pod, signal);
  }

  /** Applies the new spec and metadata; a container whose image changed restarts. */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.updatePod(pod, signal);
  }

  /** Terminates every container, reports the terminal status and forgets the pod. */
  deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.deletePod(pod, signal);
  }

  /** Returns the pod with its current status, or `undefined`. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    return this.#lifecycle.getPod(namespace, name, signal);
  }

  /** Returns the current status of the pod, or `undefined`. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return this.#lifecycle.getPodStatus(namespace, name, signal);
  }

  /** Returns every pod the mock runs, with status. */
  getPods(signal: AbortSignal): Promise<Pod[]> {
    return this.#lifecycle.getPods(signal);
  }

  /** Registers a pod status callback, called after each change of a pod's status. */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#lifecycle.notifyPods(signal, callback);
  }

  /** Ends the container's run and starts the next one, `restartCount` one higher. */
  restartContainer(ref: ContainerRef, options: RestartOptions, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.restartContainer(ref, options, signal);
  }

  // -- Logs, exec, attach, port-forward and probes (container_io.ts) -----------

  /** Streams the log of a container: its process's output or the synthetic log. */
  getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    return this.#io.getContainerLogs(ref, options, signal);
  }

  /** Runs `options.command` with the built-in command set (`exec_commands.ts`), never a host shell. */
  runInContainer(ref: ContainerRef, options: ExecOptions, signal: AbortSignal): Promise<number> {
    return this.#io.runInContainer(ref, options, signal);
  }

  /** Attaches to the container's synthetic output and input (`attach.ts`). */
  attachToContainer(ref: ContainerRef, options: AttachOptions, signal: AbortSignal): Promise<void> {
    return this.#io.attachToContainer(ref, options, signal);
  }

  /** Connects to the in-process echo server of a declared container port (`port_forward.ts`). */
  portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    return this.#io.portForward(ref, options, signal);
  }

  /** A connection to a declared port of the pod, served in process for the agent's probes. */
  dialPod(ref: PodRef, options: DialOptions, signal: AbortSignal): Promise<ByteStream> {
    return this.#io.dialPod(ref, options, signal);
  }

  // -- VM power, snapshots and migration, volumes (vm_capabilities.ts) ---------

  /** Returns the power state, host and id of the pod's VM, and the disk generation. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<MockVirtualMachineState> {
    return this.#vmCapabilities.getVirtualMachineState(pod, signal);
  }

  /** Powers the VM on (Starting for `vm.powerDelayMs`, then Running with the same IP). */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.startVirtualMachine(pod, signal);
  }

  /** Powers the VM off: the pod stays Running but not Ready, its containers `VMStopped`. */
  stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.stopVirtualMachine(pod, options, signal);
  }

  /** Reboots the running VM; every container starts a new run. */
  restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.restartVirtualMachine(pod, options, signal);
  }

  /** How many times each VM action was carried out on the VM of pod `namespace/name`. */
  vmOperations(namespace: string, name: string): VmOperationCounts | undefined {
    return this.#vmCapabilities.vmOperations(namespace, name);
  }

  /** Takes (or finds) the snapshot `options.name`, ready after `vm.snapshotDelayMs`. */
  createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return this.#vmCapabilities.createVirtualMachineSnapshot(pod, options, signal);
  }

  /** Lists the VM's snapshots, in the order they were taken. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]> {
    return this.#vmCapabilities.listVirtualMachineSnapshots(pod, signal);
  }

  /** Reverts the stopped VM's disks to the snapshot. */
  restoreVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.restoreVirtualMachineSnapshot(pod, snapshotId, signal);
  }

  /** Deletes the snapshot. */
  deleteVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.deleteVirtualMachineSnapshot(pod, snapshotId, signal);
  }

  /** Moves the running VM to `options.targetHost` or the first other configured host. */
  migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return this.#vmCapabilities.migrateVirtualMachine(pod, options, signal);
  }

  /** The configured hosts other than the VM's. */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return this.#vmCapabilities.listMigrationTargets(pod, signal);
  }

  /** Creates (or finds) the volume of `request`, ready after `volumes.createDelayMs`. */
  createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume> {
    return this.#vmCapabilities.createVolume(request, signal);
  }

  /** Returns the volume `volumeId`, or `undefined`. */
  getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined> {
    return this.#vmCapabilities.getVolume(volumeId, signal);
  }

  /** Lists every volume (the mock is one node's backend). */
  listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]> {
    return this.#vmCapabilities.listVolumes(signal);
  }

  /** Deletes a detached volume. */
  deleteVolume(volumeId: string, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.deleteVolume(volumeId, signal);
  }

  /** Grows a volume to at least `sizeBytes` within the configured capacity. */
  expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number> {
    return this.#vmCapabilities.expandVolume(volumeId, sizeBytes, signal);
  }

  /** Attaches a volume to the VM behind `pod`. */
  attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.attachVolume(volumeId, pod, signal);
  }

  /** Detaches a volume from the VM behind `pod`; a pod without a VM has none attached. */
  detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#vmCapabilities.detachVolume(volumeId, pod, signal);
  }

  /** How many times each volume action was carried out, kept in the state file. */
  volumeOperations(): VolumeOperationCounts {
    return this.#vmCapabilities.volumeOperations();
  }

  // -- StatsSummary and MetricsResource -------------------------------------

  /** Returns node and pod usage; one container entry per running container. */
  getStatsSummary(signal: AbortSignal): Promise<Summary> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const now = this.#now();
      const capacity = this.#config.capacity;
      return statsSummary(
        this.#usage.nodeUsage(now),
        this.#pods.all().map((record) => this.#usage.podUsage(record, now)),
        {
          nodeName: this.#options.nodeName,
          startTime: this.#startTime,
          now,
          memoryBytes: parseQuantity(capacity.memory),
          diskBytes: parseQuantity(capacity["ephemeral-storage"]),
        },
      );
    });
  }

  /** Returns the kubelet resource metrics, derived from the same data as the summary. */
  async getMetricsResource(signal: AbortSignal): Promise<MetricFamily[]> {
    return resourceMetricsFromSummary(await this.getStatsSummary(signal));
  }
}
