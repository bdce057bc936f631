/**
 * Container probes as the kubelet runs them (startup, readiness, liveness; `httpGet`,
 * `tcpSocket` and `grpc` against the pod IP or through the provider's `PodDialer`,
 * `exec` through its exec capability): `ProbeManager` runs them for the node's pods and
 * tells the pod controller what they found.
 *
 * @module
 */

export {
  type ProbeEventRecorder,
  ProbeManager,
  type ProbeManagerOptions,
  type ProbeView,
  type UnhealthyContainer,
} from "./probe_manager.ts";
export {
  PROBE_KINDS,
  type ProbeHandler,
  type ProbeKind,
  type ProbeSpec,
  probeSpecOf,
  probeSpecsOf,
  probeTitle,
} from "./probe_spec.ts";
export { type AttemptResult, type ProbeContext, runProbeAttempt } from "./prober.ts";
export type { ProbeOutcome } from "./outcome.ts";
export { type ProbeResult, ProbeWorker, runIdOf, type WorkerHost } from "./worker.ts";
