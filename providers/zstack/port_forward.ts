/**
 * Port-forward into a ZStack VM-Pod: the agent dials the VM's IP and port itself (edge hosts
 * reach the VM network) and copies bytes both ways, half-closing each direction when its
 * source ends. Exec and attach have no such channel: a VM runs no container runtime, so
 * they answer with what to use instead (SSH to the VM's IP).
 *
 * @module
 */

import {
  NotImplementedError,
  type PortForwardOptions,
  UnavailableError,
} from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";

/** How long a connection to the VM may take before the forward fails. */
const connectTimeoutMs = 10_000;

/** What the forward needs to know of the VM. */
export interface VmEndpoint {
  /** `namespace/name` of the pod, for messages. */
  pod: string;
  /** The VM's IP, when it has one. */
  ip?: string;
  /** The VM's state as ZStack reports it, for messages. */
  state?: string;
}

async function copy(
  from: ReadableStream<Uint8Array>,
  to: WritableStream<Uint8Array>,
  signal: AbortSignal,
  options: { preventClose?: boolean } = {},
): Promise<void> {
  try {
    await from.pipeTo(to, { signal, ...options });
  } catch {
    // One side went away; the other direction ends on its own or by the signal.
  }
}

/**
 * Connects `options.connection` to `options.port` at the VM's IP and copies both ways
 * until both directions ended or `signal` aborts. `UnavailableError` when the VM has no IP
 * yet or nothing answers on the port.
 */
export async function forwardToVm(
  vm: VmEndpoint,
  options: PortForwardOptions,
  signal: AbortSignal,
): Promise<void> {
  if (vm.ip === undefined) {
    throw new UnavailableError(
      `the VM of pod ${vm.pod} has no IP yet (state ${
        vm.state ?? "unknown"
      }): expected a running VM with an address`,
    );
  }
  const address = `${vm.ip}:${options.port}`;
  let conn: Deno.TcpConn;
  try {
    conn = await Promise.race([
      Deno.connect({ hostname: vm.ip, port: options.port, transport: "tcp" }),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no answer within ${connectTimeoutMs / 1000} s`)),
          connectTimeoutMs,
        )
      ),
    ]);
  } catch (error) {
    await options.connection.writable.close().catch(() => {});
    throw new UnavailableError(
      `cannot connect to the VM of pod ${vm.pod} at ${address}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const stop = () => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    await Promise.all([
      // Closing a TcpConn's writable closes the whole connection: half-close it instead.
      copy(options.connection.readable, conn.writable, signal, { preventClose: true })
        .then(() => conn.closeWrite())
        .catch(() => {}),
      copy(conn.readable, options.connection.writable, signal),
    ]);
  } finally {
    signal.removeEventListener("abort", stop);
    stop();
  }
}

/** The refusal of exec and attach: a VM has no exec channel; SSH to its IP instead. */
export function noExecChannel(vm: VmEndpoint, what: "exec" | "attach"): NotImplementedError {
  const ssh = vm.ip === undefined
    ? "SSH to the VM's IP once it has one"
    : `SSH to the VM's IP instead (ssh <user>@${vm.ip})`;
  return new NotImplementedError(
    `pod ${vm.pod} runs as a ZStack VM, which has no ${what} channel (no container runtime inside): ${ssh}`,
  );
}
