/**
 * What reaches into the pod's one container, which is a VM: `kubectl logs` (the VM
 * lifecycle as vkedge observed it; ZStack has no boot-log API), port-forward (dialled to
 * the VM's IP by `port_forward.ts`), and exec and attach, refused with a message that
 * says to SSH to the VM's IP.
 *
 * @module
 */

import {
  type AttachToContainer,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ExecInContainer,
  InvalidInputError,
  NotFoundError,
  type PodRef,
  type PortForwarder,
  type PortForwardOptions,
} from "../../lib/provider.ts";
import { streamLogLines } from "../../lib/provider_kit/mod.ts";
import { forwardToVm, noExecChannel, type VmEndpoint } from "./port_forward.ts";
import type { VmTracker } from "./vm_tracker.ts";

/** Logs, port-forward, exec and attach of the pods of this node's VMs. */
export class ContainerAccess
  implements ContainerLogs, PortForwarder, ExecInContainer, AttachToContainer {
  readonly #tracker: VmTracker;
  readonly #stopped: AbortSignal;

  /** Reads the pods' VMs from `tracker`; log streams end when `stopped` aborts. */
  constructor(tracker: VmTracker, stopped: AbortSignal) {
    this.#tracker = tracker;
    this.#stopped = stopped;
  }

  // -- ContainerLogs --------------------------------------------------------

  /**
   * Streams the VM lifecycle as vkedge observed it (`[vkedge] <time> VM … Running on host
   * h1`): ZStack has no boot-log API. Follows new transitions until `signal` aborts or
   * the pod is deleted.
   */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { namespace, pod: podName, container: containerName } = ref;
    await this.#tracker.ensureFresh(signal);
    const key = `${namespace}/${podName}`;
    const tracked = this.#tracker.get(namespace, podName);
    if (tracked === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    }
    const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
    if (containerName !== container) {
      throw new NotFoundError(
        `container "${containerName}" not found in pod "${key}": expected "${container}"`,
      );
    }
    if (options.previous) {
      throw new InvalidInputError(
        `previous terminated container "${containerName}" in pod "${key}" not found: a VM has no earlier instance`,
      );
    }
    return streamLogLines(tracked.log, options, AbortSignal.any([signal, this.#stopped]));
  }

  // -- Port-forward, exec and attach ------------------------------------------

  /** Dials the VM's IP and `options.port` from the agent (`port_forward.ts`). */
  async portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    await forwardToVm(await this.#endpoint(ref, signal), options, signal);
  }

  /** Refuses: a VM has no exec channel; the message says to SSH to its IP. */
  async runInContainer(ref: ContainerRef, _options: unknown, signal: AbortSignal): Promise<number> {
    throw noExecChannel(await this.#endpoint(ref, signal), "exec");
  }

  /** Refuses: a VM has no attach channel; the message says to SSH to its IP. */
  async attachToContainer(
    ref: ContainerRef,
    _options: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    throw noExecChannel(await this.#endpoint(ref, signal), "attach");
  }

  // -- helpers --------------------------------------------------------------

  async #endpoint(ref: PodRef, signal: AbortSignal): Promise<VmEndpoint> {
    await this.#tracker.ensureFresh(signal);
    const key = `${ref.namespace}/${ref.pod}`;
    const tracked = this.#tracker.get(ref.namespace, ref.pod);
    if (tracked === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    }
    const pod = this.#tracker.fullPod(tracked);
    return { pod: key, ip: pod.status?.podIP, state: tracked.vm.state };
  }
}
