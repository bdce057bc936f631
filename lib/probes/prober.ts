/**
 * One probe attempt: dispatches a probe's handler (`httpGet`, `tcpSocket`, `grpc`,
 * `exec`) against a container of a pod within the probe's timeout, and says whether it
 * passed, failed (with the kubelet's message), or could not run at all.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Provider } from "../provider.ts";
import { errorMessage } from "../errors.ts";
import { connectForProbe, DialError, ProbeUnsupportedError } from "./connect.ts";
import { execProbe } from "./exec_probe.ts";
import { grpcProbe } from "./grpc_probe.ts";
import { httpProbe } from "./http_probe.ts";
import { failed, PASSED, type ProbeOutcome } from "./outcome.ts";
import type { ProbeSpec } from "./probe_spec.ts";

/** What an attempt found, including that it could not be run. */
export type AttemptResult =
  | ProbeOutcome
  | {
    result: "error";
    message: string;
    /** True when it can never run against this pod (no network, no exec): say so once. */
    unsupported: boolean;
  };

/** Where an attempt runs. */
export interface ProbeContext {
  provider: Provider;
  /** The pod as the API server has it (its IP in `status.podIP`). */
  pod: Pod;
  /** The container's name. */
  container: string;
}

function authority(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

async function runHandler(
  context: ProbeContext,
  spec: ProbeSpec,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const { provider, pod } = context;
  const handler = spec.handler;
  switch (handler.type) {
    case "invalid":
      throw new ProbeUnsupportedError(handler.reason);
    case "exec":
      return await execProbe(
        provider,
        {
          namespace: pod.metadata?.namespace ?? "",
          pod: pod.metadata?.name ?? "",
          container: context.container,
        },
        { command: handler.command },
        signal,
      );
    case "tcpSocket": {
      const connection = await connectForProbe(provider, {
        pod,
        host: handler.host,
        port: handler.port,
      }, signal);
      connection.close();
      return PASSED;
    }
    case "httpGet": {
      const host = handler.host ?? pod.status?.podIP ?? pod.metadata?.name ?? "";
      const url = `${handler.scheme.toLowerCase()}://${
        authority(host, handler.port)
      }${handler.path}`;
      try {
        const connection = await connectForProbe(provider, {
          pod,
          host: handler.host,
          port: handler.port,
        }, signal);
        return await httpProbe(connection, {
          scheme: handler.scheme,
          authority: authority(host, handler.port),
          path: handler.path,
          headers: handler.headers,
        }, signal);
      } catch (error) {
        if (error instanceof DialError) return failed(`Get "${url}": ${error.message}`);
        throw error;
      }
    }
    case "grpc": {
      const timeoutSeconds = spec.timeoutMs / 1000;
      try {
        const connection = await connectForProbe(provider, { pod, port: handler.port }, signal);
        return await grpcProbe(connection, { service: handler.service, timeoutSeconds }, signal);
      } catch (error) {
        if (!(error instanceof DialError)) throw error;
        const address = authority(pod.status?.podIP ?? "", handler.port);
        return failed(
          `timeout: failed to connect service "${address}" within ${timeoutSeconds}s: ${error.message}`,
        );
      }
    }
  }
}

/** Runs `spec` once against the container, within its timeout. */
export async function runProbeAttempt(
  context: ProbeContext,
  spec: ProbeSpec,
  signal: AbortSignal,
): Promise<AttemptResult> {
  // A controller of its own, unlinked afterwards: AbortSignal.any would tie every
  // attempt to the long-lived `signal` for as long as it lives.
  const attempt = new AbortController();
  const abort = () => attempt.abort();
  const timer = setTimeout(abort, spec.timeoutMs);
  if (signal.aborted) abort();
  else signal.addEventListener("abort", abort, { once: true });
  try {
    return await runHandler(context, spec, attempt.signal);
  } catch (error) {
    if (error instanceof DialError) return failed(error.message);
    return {
      result: "error",
      message: errorMessage(error),
      unsupported: error instanceof ProbeUnsupportedError,
    };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", abort);
  }
}
