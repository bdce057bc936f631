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
 * This class is the contract's facade over files named after their jobs: `pod_records.ts`
 * and `pod_status.ts` (the pods), `virtual_machine.ts` and `vm_simulator.ts` (their VMs),
 * `volumes.ts` (the volumes),
 * `faults.ts`, `synthetic_logs.ts`, `usage_model.ts` and `stats_summary.ts`,
 * `node_description.ts`, `state_file.ts`; the generic parts come from the provider kit.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
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
  InvalidInputError,
  type MetricsResource,
  type NodeStatusNotifier,
  NotFoundError,
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
  UnavailableError,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import {
  CallbackSet,
  cloneJson,
  describeNode,
  errorMessage,
  type MetricFamily,
  parseQuantity,
  podKey,
  PodStatusReporter,
  resourceMetricsFromSummary,
  streamLogLines,
  type Summary,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import { attachToConsole } from "./attach.ts";
import type { MockConfig } from "./config.ts";
import { commandEnvironment, runBuiltinCommand } from "./exec_commands.ts";
import { Faults, type MockFault } from "./faults.ts";
import { formatIpv4 } from "./ip_pool.ts";
import { mockNodeDescription } from "./node_description.ts";
import {
  type ContainerChangeOptions,
  type ContainerRun,
  exitContainerRun,
  type PodRecord,
  PodRecords,
  restartContainerRun,
  terminateContainers,
  updateRecord,
  validatePod,
} from "./pod_records.ts";
import { mainCommandOf, startProcess } from "./container_process.ts";
import { dialPodPort, refuseUndeclared } from "./pod_endpoint.ts";
import type { ContainerRecord } from "./state_file.ts";
import { podStatusOf } from "./pod_status.ts";
import {
  readState,
  StateFileWriter,
  type VmOperationCounts,
  type VolumeOperationCounts,
} from "./state_file.ts";
import { echoPortForward } from "./port_forward.ts";
import { statsSummary } from "./stats_summary.ts";
import { syntheticLogLines } from "./synthetic_logs.ts";
import { UsageModel } from "./usage_model.ts";
import type { MockVirtualMachineState } from "./virtual_machine.ts";
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

const logger = getLogger(["vkedge", "provider", "mock"]);

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
  readonly #reporter = new PodStatusReporter();
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  readonly #stateFile: StateFileWriter | undefined;
  readonly #vms: VmSimulator;
  readonly #volumes: MockVolumes;

  /** Creates the provider from a validated configuration. */
  constructor(config: MockConfig, options: MockProviderOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startTime = this.#now();
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#faults = new Faults(config.faultFile);
    this.#pods = new PodRecords(config.podCidr, { hosts: config.vm.hosts });
    this.#usage = new UsageModel({
      startTime: this.#startTime,
      heartbeatSeconds: config.logHeartbeatSeconds,
    });
    this.#vms = new VmSimulator({
      config: config.vm,
      now: this.#now,
      stopped: this.#stopped,
      faults: this.#faults,
      changeOptions: (record) => this.#changeOptions(record),
      changed: (record) => this.#changed(record),
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
      changed: () => this.#save((file) => file.saveVolumes()),
    });
    const stateFile = config.stateFile;
    if (stateFile !== undefined) {
      const saved = readState(stateFile);
      for (const pod of saved.pods) {
        const record = this.#pods.restore(pod, stateFile);
        this.#vms.resume(record);
        this.#endOrphanedRuns(record);
      }
      this.#volumes.restore(saved.volumes, saved.volumeOperations);
      const volumes = () => ({
        volumes: this.#volumes.saved(),
        volumeOperations: this.#volumes.operations(),
      });
      this.#stateFile = new StateFileWriter(stateFile, {
        pod: (key) => this.#pods.savedPod(key),
        volumes,
        all: () => ({ pods: this.#pods.saved(), ...volumes() }),
      });
      if (this.#pods.size > 0) {
        logger.info("restored {count} pods from {path}", {
          count: this.#pods.size,
          path: stateFile,
        });
      }
    }
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

  // -- PodLifecycleHandler --------------------------------------------------

  /**
   * Starts the pod at once: Running, a pod IP, every container running and ready, a
   * running VM. A pod naming the workload UID of a pod the mock runs adopts that pod's VM
   * (IP, power state, snapshots, host), whatever its own UID and name.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = validatePod(pod);
    await this.#faults.failIfInjected("create", `creating pod ${namespace}/${name}`);
    const adopted = this.#pods.adoptable(pod);
    if (adopted !== undefined) {
      await this.#rebind(adopted, pod);
      logger.debug("pod {pod} adopted the VM {vm} of workload {workload}", {
        pod: podKey(pod),
        vm: adopted.vm.id,
        workload: workloadUid(pod),
      });
      return;
    }
    const record = await this.#pods.create(pod, this.#now());
    logger.debug("created pod {pod} with IP {ip}", {
      pod: podKey(pod),
      ip: formatIpv4(record.ip),
    });
    try {
      await this.#savePod(podKey(pod));
    } catch (error) {
      // Not on disk, so not created: a retry creates it again (and reports it).
      this.#pods.remove(record);
      throw error;
    }
    this.#syncRuns(record);
    this.#reporter.report(this.#podOf(record));
  }

  /**
   * Applies the new spec and metadata; a container whose image changed restarts. A new
   * pod object of the same workload (another UID) takes the record over.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = validatePod(pod);
    await this.#faults.failIfInjected("update", `updating pod ${namespace}/${name}`);
    const record = this.#pods.serving(pod) ??
      this.#pods.find(namespace, name, pod.metadata?.uid); // throws the NotFoundError
    await this.#rebind(record, pod);
    logger.debug("updated pod {pod}", { pod: podKey(pod) });
  }

  /**
   * Terminates every container, reports the terminal status (phase Succeeded, reason
   * `MockProviderPodDeleted`) and forgets the pod; the volumes of its VM are detached and
   * kept.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    await this.#faults.failIfInjected("delete", `deleting pod ${namespace}/${name}`);
    const record = this.#pods.find(namespace, name, pod.metadata?.uid);
    const options = this.#changeOptions(record);
    terminateContainers(record, options);
    this.#syncRuns(record);
    this.#usage.retirePod(record, options.now);
    this.#pods.remove(record);
    this.#volumes.detachAll(record.vm.id);
    logger.debug("deleted pod {pod}", { pod: `${namespace}/${name}` });
    // The volumes its VM had attached are detached now.
    await this.#save((file) =>
      Promise.all([file.savePod(`${namespace}/${name}`), file.saveVolumes()]).then(() => {})
    );
    this.#reporter.report(this.#podOf(record, options.now));
    this.#reporter.forget(`${namespace}/${name}`);
  }

  /** Returns the pod with its current status, or `undefined`. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(namespace, name);
      return record === undefined ? undefined : this.#podOf(record);
    });
  }

  /** Returns the current status of the pod, or `undefined`. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(namespace, name);
      return record === undefined ? undefined : this.#statusOf(record);
    });
  }

  /** Returns every pod the mock runs, with status. */
  getPods(signal: AbortSignal): Promise<Pod[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#pods.all().map((record) => this.#podOf(record));
    });
  }

  /**
   * Registers a pod status callback until `signal` aborts; it is called asynchronously after
   * each create, delete and update that changed the pod's status.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
  }

  // -- ContainerLogs --------------------------------------------------------

  /**
   * Streams the log of a container: a start line, then a heartbeat line every
   * `logHeartbeatSeconds`; following ends when `signal` aborts or the pod is deleted.
   */
  getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const { record, container } = this.#pods.container(ref);
      const key = podKey(record.pod);
      const instance = options.previous ? container.previous : container.current;
      if (instance === undefined) {
        throw new InvalidInputError(
          `previous terminated container "${ref.container}" in pod "${key}" not found`,
        );
      }
      const run = record.runs.get(container.name);
      const processLog = options.previous ? run?.previousLog : run?.process?.log;
      if (processLog !== undefined) return streamLogLines(processLog, options, signal);
      const lines = syntheticLogLines(instance, {
        container: container.name,
        pod: key,
        heartbeatMs: this.#config.logHeartbeatSeconds * 1000,
        now: this.#now,
        gone: AbortSignal.any([record.deleted.signal, this.#stopped]),
      });
      return streamLogLines(lines, options, signal);
    });
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host and id of the pod's VM, and the disk generation. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<MockVirtualMachineState> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.state(this.#vmRecord(pod));
    });
  }

  /** Powers the VM on (Starting for `vm.powerDelayMs`, then Running with the same IP). */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#vms.start(this.#vmRecord(pod), signal);
  }

  /** Powers the VM off: the pod stays Running but not Ready, its containers `VMStopped`. */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await this.#vms.stop(this.#vmRecord(pod), options, signal);
  }

  /** Reboots the running VM; every container starts a new run. */
  async restartVirtualMachine(
    pod: Pod,
    options: StopOptions,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#vms.restart(this.#vmRecord(pod), options, signal);
  }

  /**
   * How many times each VM action was carried out on the VM of pod `namespace/name`
   * (repeats that found the action done excluded), kept in the state file; `undefined`
   * for a pod the mock does not run.
   */
  vmOperations(namespace: string, name: string): VmOperationCounts | undefined {
    const record = this.#pods.get(namespace, name);
    return record === undefined ? undefined : this.#vms.operations(record);
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /** Takes (or finds) the snapshot `options.name`, ready after `vm.snapshotDelayMs`. */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return await this.#vms.createSnapshot(this.#vmRecord(pod), options.name, signal);
  }

  /** Lists the VM's snapshots, in the order they were taken. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.listSnapshots(this.#vmRecord(pod));
    });
  }

  /** Reverts the stopped VM's disks to the snapshot (its disk generation becomes the snapshot's). */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#vms.restoreSnapshot(this.#vmRecord(pod), snapshotId, signal);
  }

  /** Deletes the snapshot. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    await this.#vms.deleteSnapshot(this.#vmRecord(pod), snapshotId);
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Moves the running VM to `options.targetHost` or the first other configured host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await this.#vms.migrate(this.#vmRecord(pod), options.targetHost, signal);
  }

  /** The configured hosts other than the VM's. */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.targets(this.#vmRecord(pod));
    });
  }

  // -- VolumeProvisioner ---------------------------------------------------

  /** Creates (or finds) the volume of `request`, ready after `volumes.createDelayMs`. */
  async createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume> {
    return await this.#volumes.create(request, signal);
  }

  /** Returns the volume `volumeId`, or `undefined`. */
  getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#volumes.get(volumeId);
    });
  }

  /** Lists every volume (the mock is one node's backend). */
  listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#volumes.all();
    });
  }

  /** Deletes a detached volume. */
  async deleteVolume(volumeId: string, signal: AbortSignal): Promise<void> {
    await this.#volumes.delete(volumeId, signal);
  }

  /** Grows a volume to at least `sizeBytes` within the configured capacity. */
  async expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number> {
    return await this.#volumes.expand(volumeId, sizeBytes, signal);
  }

  /** Attaches a volume to the VM behind `pod`. */
  async attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#volumes.attach(volumeId, this.#vmRecord(pod).vm.id, signal);
  }

  /** Detaches a volume from the VM behind `pod`; a pod without a VM has none attached. */
  async detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#volumes.detach(volumeId, this.#pods.serving(pod)?.vm.id, signal);
  }

  /**
   * How many times each volume action was carried out (repeats that found it done
   * excluded), kept in the state file: `create` is 1 when one claim made one volume.
   */
  volumeOperations(): VolumeOperationCounts {
    return this.#volumes.operations();
  }

  // -- Exec, attach and port-forward ------------------------------------------

  /** Runs `options.command` with the built-in command set (`exec_commands.ts`), never a host shell. */
  async runInContainer(
    ref: ContainerRef,
    options: ExecOptions,
    signal: AbortSignal,
  ): Promise<number> {
    signal.throwIfAborted();
    const { record, container } = this.#runningContainer(ref);
    const environment = {
      ...commandEnvironment(record.pod, ref.container, { tty: options.streams.tty }),
      files: this.#runOf(record, container).files,
    };
    return await runBuiltinCommand(options.command, options.streams, { environment, signal });
  }

  /** Attaches to the container's synthetic output and input (`attach.ts`). */
  async attachToContainer(
    ref: ContainerRef,
    options: AttachOptions,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    const { record, container } = this.#runningContainer(ref);
    const lines = record.runs.get(container.name)?.process?.log ??
      syntheticLogLines(container.current, {
        container: container.name,
        pod: podKey(record.pod),
        heartbeatMs: this.#config.logHeartbeatSeconds * 1000,
        now: this.#now,
        gone: AbortSignal.any([record.deleted.signal, this.#stopped]),
      });
    await attachToConsole(lines, options, AbortSignal.any([signal, record.deleted.signal]));
  }

  /** Connects to the in-process echo server of a declared container port (`port_forward.ts`). */
  async portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const record = this.#pods.get(ref.namespace, ref.pod);
    if (record === undefined) {
      throw new NotFoundError(`pod "${ref.namespace}/${ref.pod}" not found in the mock provider`);
    }
    await echoPortForward(
      () => record.pod,
      options,
      AbortSignal.any([signal, record.deleted.signal]),
    );
  }

  // -- Restarts and probes ------------------------------------------------------

  /**
   * Ends the container's run (a process still running exits 137) and starts the next one:
   * `restartCount` one higher, the ended run as `lastState`, its main process run again.
   */
  async restartContainer(
    ref: ContainerRef,
    options: RestartOptions,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    const { record, container } = this.#pods.container(ref);
    if (container.kind === "init") {
      throw new InvalidInputError(
        `container "${ref.container}" in pod "${ref.namespace}/${ref.pod}" is an init container, which runs once`,
      );
    }
    restartContainerRun(container, { ...this.#changeOptions(record), reason: options.reason });
    logger.debug("pod {pod}: restarted container {container} ({reason})", {
      pod: podKey(record.pod),
      container: container.name,
      reason: options.reason,
    });
    await this.#changed(record);
  }

  /**
   * A connection to a declared port of the pod, served in process (`pod_endpoint.ts`): the
   * mock's pod IPs exist nowhere, so the agent's probes come here instead of the network.
   */
  dialPod(ref: PodRef, options: DialOptions, signal: AbortSignal): Promise<ByteStream> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(ref.namespace, ref.pod);
      if (record === undefined) {
        throw new NotFoundError(`pod "${ref.namespace}/${ref.pod}" not found in the mock provider`);
      }
      refuseUndeclared(record.pod, options.port);
      return dialPodPort(() => record.pod, options.port, record.deleted.signal);
    });
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

  // -- internals ------------------------------------------------------------

  /** The container `ref` names; `InvalidInputError` when its current run has ended. */
  #runningContainer(ref: ContainerRef): ReturnType<PodRecords["container"]> {
    const found = this.#pods.container(ref);
    if (found.container.current.finishedAt !== undefined) {
      throw new InvalidInputError(
        `container "${ref.container}" in pod "${ref.namespace}/${ref.pod}" is not running`,
      );
    }
    return found;
  }

  /** The in-memory run of `container` (its files, its process), made anew for a new run. */
  #runOf(record: PodRecord, container: ContainerRecord): ContainerRun {
    const runKey = `${container.current.startedAt}/${container.restartCount}`;
    const run = record.runs.get(container.name);
    if (run?.runKey === runKey) return run;
    const next: ContainerRun = {
      runKey,
      files: new Map(),
      ...(run?.process === undefined ? {} : { previousLog: run.process.log }),
    };
    run?.process?.stop();
    record.runs.set(container.name, next);
    return next;
  }

  /**
   * Keeps the main processes in line with the container runs: a running container with
   * `command` or `args` has its process; a run that ended (power-off, deletion) stops it;
   * a process that exits ends its run with its exit code.
   */
  #syncRuns(record: PodRecord): void {
    for (const container of record.containers.values()) {
      if (container.kind === "init") continue;
      const spec = record.pod.spec?.containers?.find((each) => each.name === container.name);
      const command = mainCommandOf(spec);
      if (command === undefined) continue;
      const running = container.current.finishedAt === undefined;
      const run = this.#runOf(record, container);
      if (!running) {
        run.process?.stop();
        continue;
      }
      if (run.process !== undefined) continue;
      const environment = {
        ...commandEnvironment(record.pod, container.name, { tty: false }),
        files: run.files,
      };
      const process = startProcess(command, { environment, now: this.#now });
      run.process = process;
      const instance = container.current;
      void process.exited.then(async (exitCode) => {
        if (container.current !== instance || record.deleted.signal.aborted) return;
        exitContainerRun(container, { ...this.#changeOptions(record), exitCode });
        await this.#changed(record).catch((error) =>
          logger.warn("pod {pod}: cannot save the end of container {container}: {error}", {
            pod: podKey(record.pod),
            container: container.name,
            error: errorMessage(error),
          })
        );
      });
    }
  }

  /**
   * After a restart of the agent: a running container with a main process ran it inside
   * the previous agent process, so that run ended with it (exit code 137).
   */
  #endOrphanedRuns(record: PodRecord): void {
    for (const container of record.containers.values()) {
      if (container.kind === "init" || container.current.finishedAt !== undefined) continue;
      const spec = record.pod.spec?.containers?.find((each) => each.name === container.name);
      if (mainCommandOf(spec) === undefined) continue;
      exitContainerRun(container, {
        ...this.#changeOptions(record),
        exitCode: 137,
        message: "mock provider: the container's process ran inside the previous agent process",
      });
    }
  }

  #changeOptions(record: PodRecord): ContainerChangeOptions {
    const now = this.#now();
    return {
      now,
      retire: (container) => this.#usage.retireContainer(record, container, now),
    };
  }

  /** The record whose VM serves `pod`; throws `NotFoundError` when there is none. */
  #vmRecord(pod: Pod): PodRecord {
    const record = this.#pods.serving(pod);
    if (record === undefined) {
      throw new NotFoundError(
        `mock provider: pod ${podKey(pod)} (uid "${
          pod.metadata?.uid ?? ""
        }") has no VM: the mock runs no such pod and no pod of its workload`,
      );
    }
    return record;
  }

  /** Binds `record` to the pod object `pod` of its workload, then saves and reports it. */
  async #rebind(record: PodRecord, pod: Pod): Promise<void> {
    const previousKey = podKey(record.pod);
    this.#pods.rebind(record, pod);
    await updateRecord(record, pod, this.#changeOptions(record));
    if (previousKey !== podKey(pod)) {
      this.#reporter.forget(previousKey);
      await this.#savePod(previousKey);
    }
    await this.#changed(record);
  }

  /** Saves and reports `record` after a change (of its pod or its VM). */
  async #changed(record: PodRecord): Promise<void> {
    this.#syncRuns(record);
    await this.#savePod(podKey(record.pod));
    if (!record.deleted.signal.aborted) this.#reporter.report(this.#podOf(record));
  }

  /** Resolves once the pod `key` as it is now is in the state file (at once without one). */
  async #savePod(key: string): Promise<void> {
    await this.#save((file) => file.savePod(key));
  }

  /** Resolves once `write` has saved its change to the state file (at once without one). */
  async #save(write: (file: StateFileWriter) => Promise<void>): Promise<void> {
    if (this.#stateFile === undefined) return;
    try {
      await write(this.#stateFile);
    } catch (error) {
      throw new UnavailableError(
        `mock provider: cannot write the state file ${this.#config.stateFile}: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  #podOf(record: PodRecord, deletedAt?: number): Pod {
    return { ...cloneJson(record.pod), status: this.#statusOf(record, deletedAt) };
  }

  #statusOf(record: PodRecord, deletedAt?: number): PodStatus {
    return podStatusOf(record, { hostIp: this.#options.internalIp, deletedAt });
  }
}
