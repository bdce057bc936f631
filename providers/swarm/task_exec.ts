/**
 * `kubectl exec` in a task's container: `POST /containers/{id}/exec`, then
 * `POST /exec/{id}/start` hijacked (raw bytes with a TTY, the multiplexed stream
 * without), the client's stdin copied in and half-closed at its end, each terminal size
 * sent with `POST /exec/{id}/resize`, and the exit code read with `GET /exec/{id}/json`
 * once the output ends. The Engine reaches only the containers of its own Swarm node, so
 * the task must run there.
 *
 * @module
 */

import { type ExecOptions, InvalidInputError, UnavailableError } from "../../lib/provider.ts";
import type { Task } from "./api_types.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import { getLogger } from "@logtape/logtape";
import type { EngineClient } from "./client.ts";
import { FrameDecoder } from "./multiplex.ts";

const logger = getLogger(["vkedge", "provider", "swarm", "exec"]);

/** What the Engine writes when the command cannot be started. */
const notFound = /executable file not found|no such file or directory/i;

/** Where an exec would run, for {@linkcode taskExecIn}. */
export interface ExecTarget {
  /** The container, for messages: `container app of pod default/web`. */
  what: string;
  /** The Swarm node ID of the Engine the provider talks to. */
  engineNodeId: string | undefined;
  /** The Engine endpoint, for messages. */
  endpoint: string;
  /** A Swarm node's name by ID, for messages. */
  nodeName(id: string): string;
}

/**
 * The container ID of `task` for an exec: the task must be running, on this Engine's
 * Swarm node (`InvalidInputError` when it does not run, `UnavailableError` when it runs
 * on another node, whose Engine the provider does not reach).
 */
export function taskExecIn(task: Task | undefined, target: ExecTarget): string {
  const containerId = task?.Status.ContainerStatus?.ContainerID;
  if (task === undefined || task.Status.State !== "running" || !containerId) {
    throw new InvalidInputError(
      `${target.what}: expected a running container, found ${
        task === undefined ? "no Swarm task" : `its Swarm task ${task.Status.State}`
      }`,
    );
  }
  if (
    target.engineNodeId !== undefined && task.NodeID !== undefined &&
    task.NodeID !== target.engineNodeId
  ) {
    throw new UnavailableError(
      `${target.what}: runs on Swarm node ${
        target.nodeName(task.NodeID)
      }, and exec needs that node's Engine; the provider reaches only ${target.endpoint}`,
    );
  }
  return containerId;
}

/** The exit code of a finished exec: 126 with a "not found" message is 127, as in a shell. */
export function execExitCode(engineCode: number | null, output: string): number {
  if (engineCode === null) return 1;
  if (engineCode === 126 && notFound.test(output)) return 127;
  return engineCode;
}

async function copyIn(
  stdin: ReadableStream<Uint8Array>,
  write: (bytes: Uint8Array) => Promise<void>,
  closeWrite: () => Promise<void>,
): Promise<void> {
  try {
    for await (const chunk of stdin) await write(chunk);
  } catch {
    // The client or the process went away: nothing more to send.
  }
  await closeWrite();
}

/**
 * Runs `options.command` in container `containerId` and resolves with its exit code;
 * closes the output streams it was given when the process ends.
 */
export async function execInContainer(
  client: EngineClient,
  containerId: string,
  options: ExecOptions,
  signal: AbortSignal,
): Promise<number> {
  const { streams } = options;
  if (options.command.length === 0) {
    throw new InvalidInputError("exec: expected a command, found none");
  }
  const execId = await client.execCreate(containerId, {
    Cmd: options.command,
    AttachStdin: streams.stdin !== undefined,
    AttachStdout: streams.stdout !== undefined,
    AttachStderr: streams.stderr !== undefined || (streams.tty && streams.stdout !== undefined),
    Tty: streams.tty,
  }, signal);
  const session = await client.execStart(execId, streams.tty, signal);
  const stdout = streams.stdout?.getWriter();
  const stderr = streams.stderr?.getWriter();
  let head = "";
  const remember = (bytes: Uint8Array) => {
    if (head.length < 4096) head += new TextDecoder().decode(bytes);
  };
  const resizing = streams.tty && streams.resize !== undefined
    ? (async () => {
      for await (const size of streams.resize!) {
        if (signal.aborted) return;
        await client.execResize(execId, size, signal).catch((error) => {
          logger.debug("resizing exec {id} failed: {error}", {
            id: execId,
            error: errorMessage(error),
          });
        });
      }
    })()
    : Promise.resolve();
  const input = streams.stdin !== undefined
    ? copyIn(streams.stdin, session.write, session.closeWrite)
    : Promise.resolve();
  try {
    const frames = new FrameDecoder();
    for await (const chunk of session.readable) {
      if (streams.tty) {
        remember(chunk);
        await stdout?.write(chunk);
        continue;
      }
      for (const frame of frames.push(chunk)) {
        remember(frame.bytes);
        if (frame.stream === 1) await stdout?.write(frame.bytes);
        else if (frame.stream === 2 || frame.stream === 3) {
          await (stderr ?? stdout)?.write(frame.bytes);
        }
      }
    }
  } finally {
    session.close();
    await Promise.all([
      stdout?.close().catch(() => undefined),
      stderr?.close().catch(() => undefined),
    ]);
  }
  void input;
  void resizing;
  if (signal.aborted) throw signal.reason;
  let inspected = await client.execInspect(execId, signal);
  for (let attempt = 0; inspected.Running && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    inspected = await client.execInspect(execId, signal);
  }
  return execExitCode(inspected.ExitCode, head);
}
