/**
 * The in-memory runs of a mock pod's containers: each run's files (shared with exec
 * sessions) and the main process of a container with `command` or `args`, kept in line
 * with the container records — started for a running container, stopped when its run ends,
 * and ending the run with the process's exit code when the process exits.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage, podKey } from "../../lib/provider_kit/mod.ts";
import { mainCommandOf, startProcess } from "./container_process.ts";
import { commandEnvironment } from "./exec_commands.ts";
import {
  type ContainerChangeOptions,
  type ContainerRun,
  exitContainerRun,
  type PodRecord,
} from "./pod_records.ts";
import type { ContainerRecord } from "./state_file.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What keeping the runs of a pod in line needs from the provider. */
export interface ContainerRunOptions {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The options of a change to `record`'s containers, taken when it happens. */
  changeOptions: (record: PodRecord) => ContainerChangeOptions;
  /** Saves and reports `record` after a process ended one of its runs. */
  changed: (record: PodRecord) => Promise<void>;
}

/** The in-memory run of `container` (its files, its process), made anew for a new run. */
export function containerRun(record: PodRecord, container: ContainerRecord): ContainerRun {
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
export function syncContainerRuns(record: PodRecord, options: ContainerRunOptions): void {
  for (const container of record.containers.values()) {
    if (container.kind === "init") continue;
    const spec = record.pod.spec?.containers?.find((each) => each.name === container.name);
    const command = mainCommandOf(spec);
    if (command === undefined) continue;
    const running = container.current.finishedAt === undefined;
    const run = containerRun(record, container);
    if (!running) {
      run.process?.stop();
      continue;
    }
    if (run.process !== undefined) continue;
    const environment = {
      ...commandEnvironment(record.pod, container.name, { tty: false }),
      files: run.files,
    };
    const process = startProcess(command, { environment, now: options.now });
    run.process = process;
    const instance = container.current;
    void process.exited.then(async (exitCode) => {
      if (container.current !== instance || record.deleted.signal.aborted) return;
      exitContainerRun(container, { ...options.changeOptions(record), exitCode });
      await options.changed(record).catch((error) =>
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
export function endOrphanedRuns(
  record: PodRecord,
  options: Pick<ContainerRunOptions, "changeOptions">,
): void {
  for (const container of record.containers.values()) {
    if (container.kind === "init" || container.current.finishedAt !== undefined) continue;
    const spec = record.pod.spec?.containers?.find((each) => each.name === container.name);
    if (mainCommandOf(spec) === undefined) continue;
    exitContainerRun(container, {
      ...options.changeOptions(record),
      exitCode: 137,
      message: "mock provider: the container's process ran inside the previous agent process",
    });
  }
}
