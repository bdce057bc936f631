/**
 * The mock's pod lifecycle: pods created, updated (a new pod object of the same workload
 * takes the record and its VM over), deleted and restarted container by container, each
 * change saved to the state file and reported to the pod notifiers.
 *
 * @module
 */

import type { Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  type ContainerRef,
  type ContainerRestarter,
  InvalidInputError,
  type PodLifecycleHandler,
  type PodNotifier,
  type RestartOptions,
} from "../../lib/provider.ts";
import { cloneJson, podKey, PodStatusReporter, workloadUid } from "../../lib/provider_kit/mod.ts";
import { type ContainerRunOptions, endOrphanedRuns, syncContainerRuns } from "./container_runs.ts";
import type { Faults } from "./faults.ts";
import { formatIpv4 } from "./ip_pool.ts";
import {
  type ContainerChangeOptions,
  type PodRecord,
  type PodRecords,
  restartContainerRun,
  terminateContainers,
  updateRecord,
  validatePod,
} from "./pod_records.ts";
import { podStatusOf } from "./pod_status.ts";
import type { StateFileWriter } from "./state_file.ts";
import type { UsageModel } from "./usage_model.ts";
import type { MockVolumes } from "./volumes.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What the pod lifecycle acts on. */
export interface MockPodLifecycleOptions {
  /** The pods. */
  pods: PodRecords;
  /** The usage of pods and containers, kept past their runs. */
  usage: UsageModel;
  /** The volumes, detached from the VM of a deleted pod. */
  volumes: MockVolumes;
  /** The injected faults. */
  faults: Faults;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The node's IP, the pods' host IP. */
  hostIp: string;
  /** Resolves once `write` has saved its change to the state file (at once without one). */
  save: (write: (file: StateFileWriter) => Promise<void>) => Promise<void>;
}

/** Creates, updates, deletes and reports the mock's pods. */
export class MockPodLifecycle implements PodLifecycleHandler, PodNotifier, ContainerRestarter {
  readonly #pods: PodRecords;
  readonly #usage: UsageModel;
  readonly #volumes: MockVolumes;
  readonly #faults: Faults;
  readonly #now: () => number;
  readonly #hostIp: string;
  readonly #save: MockPodLifecycleOptions["save"];
  readonly #reporter = new PodStatusReporter();
  readonly #runOptions: ContainerRunOptions;

  /** Acts on the pods and volumes of `options`. */
  constructor(options: MockPodLifecycleOptions) {
    this.#pods = options.pods;
    this.#usage = options.usage;
    this.#volumes = options.volumes;
    this.#faults = options.faults;
    this.#now = options.now;
    this.#hostIp = options.hostIp;
    this.#save = options.save;
    this.#runOptions = {
      now: this.#now,
      changeOptions: (record) => this.changeOptions(record),
      changed: (record) => this.changed(record),
    };
  }

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
    syncContainerRuns(record, this.#runOptions);
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
    const options = this.changeOptions(record);
    terminateContainers(record, options);
    syncContainerRuns(record, this.#runOptions);
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

  /** Registers a pod status callback until `signal` aborts. */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
  }

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
    restartContainerRun(container, { ...this.changeOptions(record), reason: options.reason });
    logger.debug("pod {pod}: restarted container {container} ({reason})", {
      pod: podKey(record.pod),
      container: container.name,
      reason: options.reason,
    });
    await this.changed(record);
  }

  /** After a restart of the agent: ends the runs whose processes the previous agent ran. */
  endOrphanedRuns(record: PodRecord): void {
    endOrphanedRuns(record, this.#runOptions);
  }

  /** The options of a change to `record`'s containers now: its usage kept as runs end. */
  changeOptions(record: PodRecord): ContainerChangeOptions {
    const now = this.#now();
    return {
      now,
      retire: (container) => this.#usage.retireContainer(record, container, now),
    };
  }

  /** Saves and reports `record` after a change (of its pod or its VM). */
  async changed(record: PodRecord): Promise<void> {
    syncContainerRuns(record, this.#runOptions);
    await this.#savePod(podKey(record.pod));
    if (!record.deleted.signal.aborted) this.#reporter.report(this.#podOf(record));
  }

  /** Binds `record` to the pod object `pod` of its workload, then saves and reports it. */
  async #rebind(record: PodRecord, pod: Pod): Promise<void> {
    const previousKey = podKey(record.pod);
    this.#pods.rebind(record, pod);
    await updateRecord(record, pod, this.changeOptions(record));
    if (previousKey !== podKey(pod)) {
      this.#reporter.forget(previousKey);
      await this.#savePod(previousKey);
    }
    await this.changed(record);
  }

  /** Resolves once the pod `key` as it is now is in the state file (at once without one). */
  async #savePod(key: string): Promise<void> {
    await this.#save((file) => file.savePod(key));
  }

  #podOf(record: PodRecord, deletedAt?: number): Pod {
    return { ...cloneJson(record.pod), status: this.#statusOf(record, deletedAt) };
  }

  #statusOf(record: PodRecord, deletedAt?: number): PodStatus {
    return podStatusOf(record, { hostIp: this.#hostIp, deletedAt });
  }
}
