/**
 * The mock's ways into a running pod: container logs (a process's output or the synthetic
 * log), exec with the built-in command set, attach to the container's output and input,
 * port-forward to an in-process echo server, and connections to declared ports for the
 * agent's probes. Nothing reaches a host shell or the network.
 *
 * @module
 */

import {
  type AttachOptions,
  type AttachToContainer,
  type ByteStream,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type DialOptions,
  type ExecInContainer,
  type ExecOptions,
  InvalidInputError,
  NotFoundError,
  type PodDialer,
  type PodRef,
  type PortForwarder,
  type PortForwardOptions,
} from "../../lib/provider.ts";
import { type LogLineSource, podKey, streamLogLines } from "../../lib/provider_kit/mod.ts";
import { attachToConsole } from "./attach.ts";
import { containerRun } from "./container_runs.ts";
import { commandEnvironment, runBuiltinCommand } from "./exec_commands.ts";
import { dialPodPort, refuseUndeclared } from "./pod_endpoint.ts";
import type { PodRecord, PodRecords } from "./pod_records.ts";
import { echoPortForward } from "./port_forward.ts";
import type { ContainerInstance, ContainerRecord } from "./state_file.ts";
import { syntheticLogLines } from "./synthetic_logs.ts";

/** What the container I/O reads. */
export interface ContainerIoOptions {
  /** The pods. */
  pods: PodRecords;
  /** Seconds between the heartbeat lines of a synthetic log. */
  logHeartbeatSeconds: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Aborts when the provider stops (following logs end). */
  stopped: AbortSignal;
}

/** Logs, exec, attach, port-forward and probe connections of the mock's pods. */
export class ContainerIo
  implements ContainerLogs, ExecInContainer, AttachToContainer, PortForwarder, PodDialer {
  readonly #pods: PodRecords;
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;

  /** Serves the pods of `options`. */
  constructor(options: ContainerIoOptions) {
    this.#pods = options.pods;
    this.#heartbeatMs = options.logHeartbeatSeconds * 1000;
    this.#now = options.now;
    this.#stopped = options.stopped;
  }

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
      const instance = options.previous ? container.previous : container.current;
      if (instance === undefined) {
        throw new InvalidInputError(
          `previous terminated container "${ref.container}" in pod "${
            podKey(record.pod)
          }" not found`,
        );
      }
      const run = record.runs.get(container.name);
      const processLog = options.previous ? run?.previousLog : run?.process?.log;
      if (processLog !== undefined) return streamLogLines(processLog, options, signal);
      return streamLogLines(this.#syntheticLog(record, container, instance), options, signal);
    });
  }

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
      files: containerRun(record, container).files,
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
      this.#syntheticLog(record, container, container.current);
    await attachToConsole(lines, options, AbortSignal.any([signal, record.deleted.signal]));
  }

  /** Connects to the in-process echo server of a declared container port (`port_forward.ts`). */
  async portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const record = this.#pod(ref);
    await echoPortForward(
      () => record.pod,
      options,
      AbortSignal.any([signal, record.deleted.signal]),
    );
  }

  /**
   * A connection to a declared port of the pod, served in process (`pod_endpoint.ts`): the
   * mock's pod IPs exist nowhere, so the agent's probes come here instead of the network.
   */
  dialPod(ref: PodRef, options: DialOptions, signal: AbortSignal): Promise<ByteStream> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pod(ref);
      refuseUndeclared(record.pod, options.port);
      return dialPodPort(() => record.pod, options.port, record.deleted.signal);
    });
  }

  /** The record of the pod `ref` names; `NotFoundError` when the mock does not run it. */
  #pod(ref: PodRef): PodRecord {
    const record = this.#pods.get(ref.namespace, ref.pod);
    if (record === undefined) {
      throw new NotFoundError(`pod "${ref.namespace}/${ref.pod}" not found in the mock provider`);
    }
    return record;
  }

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

  /** The synthetic log of one run of `container`, followed until the pod or provider goes. */
  #syntheticLog(
    record: PodRecord,
    container: ContainerRecord,
    instance: ContainerInstance,
  ): LogLineSource {
    return syntheticLogLines(instance, {
      container: container.name,
      pod: podKey(record.pod),
      heartbeatMs: this.#heartbeatMs,
      now: this.#now,
      gone: AbortSignal.any([record.deleted.signal, this.#stopped]),
    });
  }
}
