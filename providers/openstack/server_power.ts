/**
 * Powering the server behind a pod on, off and through a reboot (`VirtualMachinePower`).
 * Every call first waits out a running task, then does nothing when the server already
 * is where it was asked to be, so a call repeated after an agent restart is harmless.
 *
 * Start is `os-start` (`unpause`, `resume` or `unshelve` for a server paused, suspended or
 * shelved); stop is `os-stop`, which Nova carries out as a clean shutdown that cuts the
 * power after the cloud's own `shutdown_timeout` (the API has no way to shorten it, so
 * `force` and a grace period change nothing but the log line); restart is a soft reboot,
 * or a hard one with `force`, refused while the server is off. None of these ever deletes
 * or re-creates the server: a stopped server keeps its id, disks and ports, and its pod
 * stays Running and not Ready (`server_to_pod.ts`).
 *
 * @module
 */

import {
  InvalidInputError,
  type StopOptions,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import { toProviderError } from "./errors.ts";
import {
  describeServer,
  logAction,
  oneAtATime,
  postAction,
  readServer,
  requesting,
  type ServerActionContext,
  settleServer,
  waitForServer,
} from "./server_action.ts";
import { hostOf, powerOf, taskOf } from "./server_to_pod.ts";
import type { TrackedServer } from "./server_tracker.ts";

/** The power state, host and id of the tracked server. */
export function serverState(tracked: Pick<TrackedServer, "server">): VirtualMachineState {
  const host = hostOf(tracked.server);
  return {
    power: powerOf(tracked.server),
    ...(host === undefined ? {} : { host }),
    id: tracked.server.id,
  };
}

const startActions: Record<string, string> = {
  SHUTOFF: "os-start",
  PAUSED: "unpause",
  SUSPENDED: "resume",
  SHELVED: "unshelve",
  SHELVED_OFFLOADED: "unshelve",
};

/** Powers the server on and resolves once it is ACTIVE. */
export function powerOn(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<void> {
  return oneAtATime(tracked, () => start(context, tracked, options));
}

async function start(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  try {
    const server = await settleServer(context, tracked, { signal });
    if (server.status === "ACTIVE") return;
    const action = startActions[server.status];
    if (action === undefined) {
      throw new InvalidInputError(
        `openstack provider: cannot start ${describeServer(tracked)}: it is ${server.status}${
          server.fault?.message ? ` (${server.fault.message})` : ""
        }; only a SHUTOFF, PAUSED, SUSPENDED or SHELVED server starts`,
      );
    }
    await requesting(tracked, ["ACTIVE"], async () => {
      logAction(context, tracked, `start requested (${action})`);
      await postAction(context, tracked, { action, signal });
      await waitForServer(context, tracked, {
        what: "starting",
        done: (s) => s.status === "ACTIVE" && taskOf(s) === undefined,
        signal,
      });
    });
  } catch (error) {
    throw toProviderError(error, `openstack provider: starting ${describeServer(tracked)}`);
  }
}

/** Powers the server off (`os-stop`) and resolves once it is SHUTOFF. */
export function powerOff(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  return oneAtATime(tracked, () => stop(context, tracked, options));
}

async function stop(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  try {
    const server = await settleServer(context, tracked, { signal });
    if (["SHUTOFF", "SHELVED", "SHELVED_OFFLOADED"].includes(server.status)) return;
    await requesting(tracked, ["SHUTOFF"], async () => {
      logAction(
        context,
        tracked,
        options.force
          ? "stop requested (os-stop; Nova cuts the power after the cloud's shutdown timeout)"
          : "stop requested (os-stop: guest shutdown)",
      );
      await postAction(context, tracked, { action: "os-stop", signal });
      await waitForServer(context, tracked, {
        what: "stopping",
        done: (s) => s.status === "SHUTOFF" && taskOf(s) === undefined,
        signal,
      });
    });
  } catch (error) {
    throw toProviderError(error, `openstack provider: stopping ${describeServer(tracked)}`);
  }
}

/**
 * Reboots an ACTIVE server (soft; hard with `force`) and resolves once it is ACTIVE again;
 * a reboot already in progress (an agent restart) is the one asked for.
 * `InvalidInputError` when the server is off.
 */
export function reboot(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  return oneAtATime(tracked, () => restart(context, tracked, options));
}

async function restart(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  const what = describeServer(tracked);
  try {
    const current = await readServer(context, tracked, { signal });
    const done = (s: typeof current) => s.status === "ACTIVE" && taskOf(s) === undefined;
    if (powerOf(current) === "Rebooting") {
      await waitForServer(context, tracked, { what: "rebooting", done, signal });
      return;
    }
    const server = await settleServer(context, tracked, { signal });
    if (server.status !== "ACTIVE") {
      throw new InvalidInputError(
        `openstack provider: cannot restart ${what}: expected it ACTIVE, found it ${server.status}; start it instead`,
      );
    }
    const type = options.force ? "HARD" : "SOFT";
    await requesting(tracked, ["REBOOT", "HARD_REBOOT", "ACTIVE"], async () => {
      logAction(context, tracked, `restart requested (${type.toLowerCase()} reboot)`);
      await postAction(context, tracked, { action: "reboot", params: { type }, signal });
      await waitForServer(context, tracked, { what: "rebooting", done, signal });
    });
  } catch (error) {
    throw toProviderError(error, `openstack provider: restarting ${what}`);
  }
}
