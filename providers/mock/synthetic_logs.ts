/**
 * The log of a mock container run, made up from its times alone: a start line, a heartbeat
 * line every `logHeartbeatSeconds` while it runs, and an end line once it has finished. It
 * is a `LogLineSource`, so the kit's `streamLogLines` applies every kubelet log option.
 *
 * @module
 */

import { abortableSleep, type LogLine, type LogLineSource } from "../../lib/provider_kit/mod.ts";
import type { ContainerInstance } from "./state_file.ts";

/** Options of {@linkcode syntheticLogLines}. */
export interface SyntheticLogOptions {
  /** Container name, as every line names it. */
  container: string;
  /** The pod's `namespace/name`, as every line names it. */
  pod: string;
  /** Time between heartbeat lines. */
  heartbeatMs: number;
  /** Clock in milliseconds since the epoch. */
  now: () => number;
  /** Aborts when no more lines will come although the run goes on (pod deleted, provider stopped). */
  gone: AbortSignal;
}

/**
 * The lines of the container run `instance`: line 0 starts it, lines 1 to n are the
 * heartbeats so far, and one more ends it once `instance.finishedAt` is set.
 */
export function syntheticLogLines(
  instance: ContainerInstance,
  options: SyntheticLogOptions,
): LogLineSource {
  const { heartbeatMs, now, gone } = options;
  const prefix = `mock: container ${options.container} of pod ${options.pod}`;

  function heartbeats(): number {
    const until = instance.finishedAt ?? now();
    return Math.max(0, Math.floor((until - instance.startedAt) / heartbeatMs));
  }

  function endLine(finishedAt: number): LogLine {
    const how = instance.exitMessage === undefined
      ? "completed with exit code 0"
      : `terminated: ${instance.exitMessage}`;
    return { timeMs: finishedAt, text: `${prefix} ${how}` };
  }

  return {
    first: () => 0,
    end: () => 1 + heartbeats() + (instance.finishedAt === undefined ? 0 : 1),
    line(index: number): LogLine {
      if (index === 0) {
        return {
          timeMs: instance.startedAt,
          text: `${prefix} started from image ${instance.image}`,
        };
      }
      if (index <= heartbeats() || instance.finishedAt === undefined) {
        return {
          timeMs: instance.startedAt + index * heartbeatMs,
          text: `${prefix} heartbeat ${index}, up ${(index * heartbeatMs) / 1000}s`,
        };
      }
      return endLine(instance.finishedAt);
    },
    now,
    ended: () => instance.finishedAt !== undefined || gone.aborted,
    changed(signal: AbortSignal): Promise<void> {
      const nextHeartbeat = instance.startedAt + (heartbeats() + 1) * heartbeatMs;
      return abortableSleep(Math.max(0, nextHeartbeat - now()), AbortSignal.any([signal, gone]));
    },
  };
}
