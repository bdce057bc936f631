/**
 * vSphere tasks followed to completion: a `*_Task` method answers at once with a Task
 * reference; its `info.state` goes queued → running → success or error, read through the
 * PropertyCollector with growing pauses (0.1 s doubling to 1 s) until it ends or the task
 * timeout passes. An error becomes the {@linkcode VsphereFault} of its fault type.
 *
 * @module
 */

import { z } from "zod";
import { counter, sleep } from "../../lib/provider_kit/mod.ts";
import { moRefReply, type VsphereClient } from "./client.ts";
import { VsphereFault } from "./faults.ts";
import { retrieveObjects } from "./property_collector.ts";
import { type MoRef, one, type Plain, xmlText } from "./xml.ts";

const tasksTotal = counter({
  name: "vkedge_vsphere_tasks_total",
  help:
    "vSphere tasks followed to their end, by task method and result (success, a fault type, timed_out).",
  labelNames: ["method", "result"],
});

/** What a task ended with. */
export interface TaskInfo {
  /** `queued`, `running`, `success` or `error`. */
  state: string;
  /** The fault type, when it failed. */
  fault?: string;
  /** vSphere's message, when it failed. */
  message?: string;
  /** The result (a reference for clones and snapshots). */
  result?: Plain;
  /** `VirtualMachine.clone`, `VirtualMachine.reset`, … */
  descriptionId?: string;
  /** The object the task works on. */
  entity?: MoRef;
}

const taskErrorSchema = one(z.object({
  fault: z.unknown().optional(),
  localizedMessage: xmlText.optional(),
}));

/** Reads the `info` of tasks (those gone are left out). */
export async function readTasks(
  client: VsphereClient,
  tasks: MoRef[],
  signal: AbortSignal,
): Promise<Map<string, TaskInfo>> {
  const objects = await retrieveObjects(
    client,
    tasks,
    ["info.state", "info.error", "info.result", "info.descriptionId", "info.entity"],
    signal,
  );
  const out = new Map<string, TaskInfo>();
  for (const object of objects) {
    const state = xmlText.safeParse(object.props.get("info.state"));
    if (!state.success) continue;
    const info: TaskInfo = { state: state.data };
    const error = object.props.get("info.error");
    if (error !== undefined) {
      const parsed = taskErrorSchema.parse(error);
      const fault = parsed.fault as { _xsiType?: string } | undefined;
      info.fault = fault?._xsiType ?? "SystemError";
      info.message = parsed.localizedMessage ?? "";
    }
    const result = object.props.get("info.result");
    if (result !== undefined) info.result = result;
    const description = xmlText.safeParse(object.props.get("info.descriptionId"));
    if (description.success) info.descriptionId = description.data;
    const entity = moRefReply.safeParse(object.props.get("info.entity"));
    if (entity.success) info.entity = entity.data;
    out.set(object.obj.value, info);
  }
  return out;
}

/** Options of {@linkcode waitForTask}. */
export interface WaitForTaskOptions {
  /** The method that started the task, for messages and metrics. */
  method: string;
  /** Give up after this long (the task goes on in vSphere). */
  timeoutMs: number;
  /** Ends the wait early. */
  signal: AbortSignal;
}

/** Waits for `task` to end; returns its result, throws its fault. */
export async function waitForTask(
  client: VsphereClient,
  task: MoRef,
  options: WaitForTaskOptions,
): Promise<Plain | undefined> {
  const { method, signal } = options;
  const deadline = Date.now() + options.timeoutMs;
  let pauseMs = 100;
  while (true) {
    const info = (await readTasks(client, [task], signal)).get(task.value);
    if (info === undefined) {
      throw new VsphereFault(
        method,
        "ManagedObjectNotFound",
        `task ${task.value} is gone before it ended`,
      );
    }
    if (info.state === "success") {
      tasksTotal.inc({ method, result: "success" });
      return info.result;
    }
    if (info.state === "error") {
      tasksTotal.inc({ method, result: info.fault ?? "error" });
      throw new VsphereFault(method, info.fault ?? "SystemError", info.message ?? "");
    }
    if (Date.now() > deadline) {
      tasksTotal.inc({ method, result: "timed_out" });
      throw new Error(
        `${method}: task ${task.value} still ${info.state} after ${options.timeoutMs} ms; it goes on in vSphere`,
      );
    }
    await sleep(pauseMs, signal);
    pauseMs = Math.min(pauseMs * 2, 1_000);
  }
}

/** Calls the task method `method` on `target` and waits for the task to end. */
export async function runTask(
  client: VsphereClient,
  method: string,
  target: MoRef,
  args: string,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<Plain | undefined> {
  const task = await client.call(method, target, args, moRefReply, options.signal);
  return await waitForTask(client, task, { method, ...options });
}
