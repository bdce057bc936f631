/**
 * What exec and attach share whatever carries them (SPDY streams or WebSocket channels):
 * the kubelet's query (`command`, `input`, `output`, `error`, `tty`), the remote-command
 * protocol versions and their negotiation, terminal resize messages, and the exit status
 * each version reports (v4+: a JSON `metav1.Status`; older ones: the failure text only).
 *
 * @module
 */

import { z } from "zod";
import { errorMessage } from "../errors.ts";
import type { TerminalSize } from "../provider.ts";
import { HttpError } from "./http_errors.ts";

/** Remote-command protocol versions, newest first, as clients offer them. */
export const RemoteCommandProtocol = {
  v5: "v5.channel.k8s.io",
  v4: "v4.channel.k8s.io",
  v3: "v3.channel.k8s.io",
  v2: "v2.channel.k8s.io",
  v1: "channel.k8s.io",
} as const;

/** The protocols the kubelet's SPDY streaming server accepts (v5 is WebSocket only). */
export const spdyRemoteCommandProtocols: readonly string[] = [
  RemoteCommandProtocol.v4,
  RemoteCommandProtocol.v3,
  RemoteCommandProtocol.v2,
  RemoteCommandProtocol.v1,
];

/** What the client asked for in the query. */
export interface RemoteCommandOptions {
  /** The command and its arguments (exec only). */
  command: string[];
  stdin: boolean;
  stdout: boolean;
  /** Never set together with `tty`: the terminal carries error output. */
  stderr: boolean;
  tty: boolean;
}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  return value === "1" || value === "true";
}

/**
 * Reads the kubelet's exec/attach query; a TTY folds stderr into stdout, as the kubelet does.
 * Throws a 400 when no stream was asked for, or (for exec) no command.
 */
export function remoteCommandOptions(
  params: URLSearchParams,
  options: { requireCommand: boolean },
): RemoteCommandOptions {
  const tty = flag(params, "tty");
  const parsed: RemoteCommandOptions = {
    command: params.getAll("command"),
    stdin: flag(params, "input"),
    stdout: flag(params, "output"),
    stderr: flag(params, "error") && !tty,
    tty,
  };
  if (!parsed.stdin && !parsed.stdout && !flag(params, "error")) {
    throw new HttpError(
      400,
      "you must specify at least 1 of stdin, stdout, stderr (query input=1, output=1 or error=1)",
    );
  }
  if (options.requireCommand && parsed.command.length === 0) {
    throw new HttpError(400, "expected a command (query command=...), found none");
  }
  return parsed;
}

/** The protocols a request offers, in its order (header lines and comma lists alike). */
export function offeredProtocols(header: string | null): string[] {
  return (header ?? "").split(",").map((each) => each.trim()).filter((each) => each !== "");
}

/**
 * The first protocol the client offers that the server supports, `""` when the client offers
 * none (the legacy v1 behaviour), or a 403 naming both lists, as the kubelet answers.
 */
export function negotiateProtocol(offered: string[], supported: readonly string[]): string {
  if (offered.length === 0) return "";
  const chosen = offered.find((protocol) => supported.includes(protocol));
  if (chosen === undefined) {
    throw new HttpError(
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${
        offered.join(" ")
      }], server accepts [${supported.join(" ")}]`,
    );
  }
  return chosen;
}

/** Whether `protocol` reports the exit status as JSON (v4 and v5). */
export function reportsJsonStatus(protocol: string): boolean {
  return protocol === RemoteCommandProtocol.v4 || protocol === RemoteCommandProtocol.v5 ||
    protocol === "v4.base64.channel.k8s.io";
}

/** Whether `protocol` has a resize stream (v3 and later). */
export function hasResizeStream(protocol: string): boolean {
  return protocol === RemoteCommandProtocol.v3 || reportsJsonStatus(protocol);
}

/** How a remote command ended. */
export type CommandOutcome =
  | { kind: "exited"; code: number; command: string[] }
  | { kind: "attached" }
  | { kind: "failed"; error: unknown };

/**
 * The bytes the error stream carries for `outcome` under `protocol`: a `metav1.Status` for
 * v4+ (`Success`, `NonZeroExitCode` with an `ExitCode` cause, or `InternalError`), the
 * failure's message for older versions, and nothing on their success.
 */
export function statusBytes(outcome: CommandOutcome, protocol: string): Uint8Array {
  const encoder = new TextEncoder();
  let status: Record<string, unknown>;
  if (outcome.kind === "attached" || (outcome.kind === "exited" && outcome.code === 0)) {
    status = { metadata: {}, status: "Success" };
  } else if (outcome.kind === "exited") {
    status = {
      metadata: {},
      status: "Failure",
      message: `command terminated with non-zero exit code: command '${
        outcome.command.join(" ")
      }' exited with ${outcome.code}`,
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: String(outcome.code) }] },
    };
  } else {
    const message = errorMessage(outcome.error);
    status = {
      metadata: {},
      status: "Failure",
      message,
      reason: "InternalError",
      details: { causes: [{ message }] },
      code: 500,
    };
  }
  if (reportsJsonStatus(protocol)) return encoder.encode(JSON.stringify(status));
  return status.status === "Success" ? new Uint8Array(0) : encoder.encode(String(status.message));
}

/** An exit code as the status can carry it (client-go parses it as a uint8). */
export function exitCodeOf(code: number): number {
  return Number.isInteger(code) ? ((code % 256) + 256) % 256 : 1;
}

const terminalSizeSchema = z.object({
  Width: z.number().int().min(0).max(65535),
  Height: z.number().int().min(0).max(65535),
});

/**
 * The terminal sizes in `bytes`: JSON objects `{"Width":W,"Height":H}`, one per line on a
 * SPDY resize stream or one per WebSocket message. Malformed messages are skipped (and
 * reported to `onInvalid`), as the kubelet logs and drops them.
 */
export async function* terminalSizes(
  bytes: ReadableStream<Uint8Array>,
  onInvalid: (message: string) => void,
): AsyncIterable<TerminalSize> {
  let pending = "";
  const parse = (line: string): TerminalSize | undefined => {
    if (line.trim() === "") return undefined;
    try {
      const size = terminalSizeSchema.parse(JSON.parse(line));
      return { width: size.Width, height: size.Height };
    } catch (error) {
      onInvalid(`resize message ${JSON.stringify(line)}: ${errorMessage(error)}`);
      return undefined;
    }
  };
  for await (const text of bytes.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const size = parse(line);
      if (size) yield size;
    }
  }
  const last = parse(pending);
  if (last) yield last;
}
