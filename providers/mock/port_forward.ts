/**
 * Port-forward into a mock pod: each declared TCP `containerPort` is served in process by
 * `pod_endpoint.ts` (echo, or the port's HTTP status and gRPC health for HTTP clients);
 * ports the pod does not declare refuse the connection, naming the ones that answer.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { PortForwardOptions } from "../../lib/provider.ts";
import { refuseUndeclared, servePodPort } from "./pod_endpoint.ts";

export { declaredPorts } from "./pod_endpoint.ts";

/**
 * Serves one forwarded connection to `options.port` of the pod (`pod()` as it is now);
 * resolves when the client has ended and every byte went back, or `signal` aborts.
 */
export async function echoPortForward(
  pod: () => Pod,
  options: PortForwardOptions,
  signal: AbortSignal,
): Promise<void> {
  try {
    refuseUndeclared(pod(), options.port);
  } catch (error) {
    await options.connection.readable.cancel().catch(() => {});
    await options.connection.writable.close().catch(() => {});
    throw error;
  }
  await servePodPort(pod, options.port, options.connection, signal);
}
