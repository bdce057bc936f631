/**
 * `kubectl logs` of a pod's server: vkedge's lifecycle lines and the server's console
 * (`os-getConsoleOutput`), read into the server's log and followed, the console read
 * again every 2 s, until the caller stops or the server is gone.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  type ContainerLogOptions,
  type ContainerRef,
  InvalidInputError,
  NotFoundError,
} from "../../lib/provider.ts";
import { abortableSleep, errorMessage, streamLogLines } from "../../lib/provider_kit/mod.ts";
import { consoleOutputSchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { describeServer } from "./server_action.ts";
import type { ServerTracker, TrackedServer } from "./server_tracker.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** Pause between two reads of the console while a log is followed. */
const consoleFollowMs = 2_000;

/** What reading a server's log works with. */
export interface ContainerLogContext {
  client: OpenStackClient;
  /** This node's servers. */
  tracker: ServerTracker;
  /** Lines of console read at most (and kept per server). */
  logLines: number;
  /** Clock in milliseconds. */
  now: () => number;
  /** Aborts when the provider stops: followers end then. */
  stopped: AbortSignal;
}

/** Reads the server's console (its last `length` lines) into its log; failures are logged. */
async function readConsole(
  context: ContainerLogContext,
  tracked: TrackedServer,
  options: { length: number; signal: AbortSignal },
): Promise<void> {
  if (tracked.deleted !== undefined || tracked.server.status === "BUILD") return;
  try {
    const reply = await context.client.request(
      "compute",
      "POST",
      `/servers/${tracked.server.id}/action`,
      {
        body: { "os-getConsoleOutput": { length: options.length } },
        schema: consoleOutputSchema,
        retry: "idempotent",
        signal: options.signal,
      },
    );
    tracked.log.mergeConsole(reply.value.output ?? "", new Date(context.now()));
  } catch (error) {
    if (options.signal.aborted) return;
    // No console yet (409 while it builds), or none for this hypervisor: lifecycle only.
    logger.debug("console of {server}: {error}", {
      server: describeServer(tracked),
      error: errorMessage(error),
    });
  }
}

/**
 * Streams the log of the server behind `ref`: its lifecycle lines and its console (the
 * last `tail` lines when a tail is given), following new lines when asked until `signal`
 * aborts or the pod is deleted. `NotFoundError` for an unknown pod or container.
 */
export async function serverContainerLogs(
  context: ContainerLogContext,
  ref: ContainerRef,
  options: { log: ContainerLogOptions; signal: AbortSignal },
): Promise<ReadableStream<Uint8Array>> {
  const { log, signal } = options;
  const { namespace, pod: podName, container: containerName } = ref;
  await context.tracker.ensureFresh(signal);
  const key = `${namespace}/${podName}`;
  const tracked = context.tracker.get(namespace, podName);
  if (tracked === undefined) {
    throw new NotFoundError(`pod "${key}" not found in the openstack provider`);
  }
  const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
  if (containerName !== container) {
    throw new NotFoundError(
      `container "${containerName}" not found in pod "${key}": expected "${container}"`,
    );
  }
  if (log.previous) {
    throw new InvalidInputError(
      `previous terminated container "${containerName}" in pod "${key}" not found: a server has no earlier instance`,
    );
  }
  const length = Math.min(context.logLines, log.tail ?? context.logLines);
  await readConsole(context, tracked, { length: Math.max(1, length), signal });
  const stop = AbortSignal.any([signal, context.stopped]);
  if (log.follow) {
    void (async () => {
      while (!stop.aborted && tracked.deleted === undefined) {
        await abortableSleep(consoleFollowMs, stop);
        if (stop.aborted) return;
        await readConsole(context, tracked, { length: context.logLines, signal: stop });
      }
    })();
  }
  return streamLogLines(tracked.log, log, stop);
}
