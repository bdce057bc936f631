/**
 * Port-forward into a mock pod: every `containerPort` the pod declares (TCP) is served by an
 * in-process echo server that sends back each byte it receives and half-closes when the
 * client does. Ports the pod does not declare refuse the connection, as a closed port
 * would, with a message naming the ports that exist.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type PortForwardOptions, UnavailableError } from "../../lib/provider.ts";
import { podKey } from "../../lib/provider_kit/mod.ts";

/** The TCP ports the pod's containers declare, in order, without repeats. */
export function declaredPorts(pod: Pod): number[] {
  const ports = new Set<number>();
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if ((port.protocol ?? "TCP") === "TCP") ports.add(port.containerPort);
    }
  }
  return [...ports];
}

/**
 * Serves one forwarded connection to `options.port` of `pod` with the port's echo server;
 * resolves when the client has ended and every byte went back, or `signal` aborts.
 */
export async function echoPortForward(
  pod: Pod,
  options: PortForwardOptions,
  signal: AbortSignal,
): Promise<void> {
  const ports = declaredPorts(pod);
  if (!ports.includes(options.port)) {
    await options.connection.readable.cancel().catch(() => {});
    await options.connection.writable.close().catch(() => {});
    throw new UnavailableError(
      `connection refused: pod ${
        podKey(pod)
      } does not listen on port ${options.port} (the mock echoes on its declared containerPorts: ${
        ports.length > 0 ? ports.join(", ") : "none"
      })`,
    );
  }
  try {
    await options.connection.readable.pipeTo(options.connection.writable, { signal });
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}
