/**
 * What the mock keeps in memory of one pod: the pod without status, its IP, its
 * containers and their runs, the VM behind it (`pod_records.ts` keeps them by name,
 * `container_changes.ts` changes their containers).
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { cloneJson } from "../../lib/provider_kit/mod.ts";
import type { ContainerProcess, ProcessLog } from "./container_process.ts";
import type { ContainerRecord, VirtualMachineRecord } from "./state_file.ts";

/** What runs in memory for one container: its run's files, main process and last log. */
export interface ContainerRun {
  /** The run these belong to (`startedAt` and restart count). */
  runKey: string;
  /** The run's files, shared with exec sessions. */
  files: Map<string, string>;
  /** The main process of a container with `command` or `args`. */
  process?: ContainerProcess;
  /** The output of the previous run's process, for `--previous`. */
  previousLog?: ProcessLog;
}

/** One pod of the mock provider. */
export interface PodRecord {
  /** The pod as created or last updated, without status. */
  pod: Pod;
  /** The UID of its current pod object (may be empty). */
  uid: string;
  /**
   * What its stable traits derive from: the workload UID (the pod's UID for a plain pod),
   * or `namespace/name` without one.
   */
  seed: string;
  /** Pod IP as an unsigned 32-bit integer. */
  ip: number;
  /** Milliseconds since the epoch. */
  startTime: number;
  /** Its containers by name: init containers first, then app containers. */
  containers: Map<string, ContainerRecord>;
  /** CPU time of container runs that ended, in nanoseconds. */
  retiredCpuNanoSeconds: number;
  /** The VM behind the pod. */
  vm: VirtualMachineRecord;
  /** Aborted when the pod is deleted. */
  deleted: AbortController;
  /** In memory only: each container's run (files, process), by container name. */
  runs: Map<string, ContainerRun>;
}

/** The pod without its status. */
export function withoutStatus(pod: Pod): Pod {
  const { status: _status, ...rest } = cloneJson(pod);
  return rest;
}
