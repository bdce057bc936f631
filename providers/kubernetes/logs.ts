/**
 * `kubectl logs` through the lower cluster's API (`pods/log`), every option passed on as
 * the kubelet's own query (tail, since, limit, timestamps, previous, follow), so the lower
 * node's kubelet (or simulator) answers. Requests that cannot be answered are refused
 * before they leave: an unknown pod or container is `NotFoundError`, `previous` for a
 * container that never restarted `InvalidInputError`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { ContainerLogOptions } from "../../lib/provider.ts";
import { InvalidInputError, NotFoundError } from "../../lib/provider.ts";
import type { KubeClient } from "../../lib/provider_kit/mod.ts";
import { toProviderError } from "./errors.ts";

/** The query of `pods/<name>/log` for `options`. */
export function logQuery(
  container: string,
  options: ContainerLogOptions,
): Record<string, string | number | boolean | undefined> {
  return {
    container,
    follow: options.follow ? true : undefined,
    tailLines: options.tail,
    limitBytes: options.limitBytes,
    sinceSeconds: options.sinceTime === undefined ? options.sinceSeconds : undefined,
    sinceTime: options.sinceTime?.toISOString().replace(/\.\d+Z$/, "Z"),
    timestamps: options.timestamps ? true : undefined,
    previous: options.previous ? true : undefined,
  };
}

/** Checks that `lower` has `container` (and a previous instance when asked for). */
export function checkLogRequest(
  lower: Pod,
  upperKey: string,
  container: string,
  options: ContainerLogOptions,
): void {
  const spec = lower.spec;
  const names = [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (!names.includes(container)) {
    throw new NotFoundError(
      `pod ${upperKey} has no container "${container}": expected one of ${names.join(", ")}`,
    );
  }
  if (!options.previous) return;
  const status = [
    ...(lower.status?.containerStatuses ?? []),
    ...(lower.status?.initContainerStatuses ?? []),
  ].find((s) => s.name === container);
  if ((status?.restartCount ?? 0) === 0 && status?.lastState?.terminated === undefined) {
    throw new InvalidInputError(
      `previous terminated container "${container}" in pod ${upperKey} not found: it has not restarted`,
    );
  }
}

/** Opens the log of `container` of the lower pod `lower`. */
export async function openLowerLog(
  client: KubeClient,
  lower: Pod,
  container: string,
  options: ContainerLogOptions,
  signal: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const namespace = lower.metadata!.namespace!;
  const name = lower.metadata!.name!;
  const abort = new AbortController();
  const stop = () => abort.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  try {
    const body = await client.openStream({
      method: "GET",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${
        encodeURIComponent(name)
      }/log`,
      query: logQuery(container, options),
      accept: "*/*",
      signal,
    }, abort);
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => signal.removeEventListener("abort", stop),
      }),
    );
  } catch (error) {
    signal.removeEventListener("abort", stop);
    throw toProviderError(error, `logs of ${namespace}/${name} in the lower cluster`);
  }
}
