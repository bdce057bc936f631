/**
 * What one probe attempt found: success or failure with the kubelet's message, or, thrown
 * as `ProbeUnsupportedError`, that it could not be run at all.
 *
 * @module
 */

/** The outcome of one probe attempt. */
export interface ProbeOutcome {
  /** Whether the container passed. */
  result: "success" | "failure";
  /** Why it failed, in the kubelet's words; empty on success. */
  message: string;
}

/** A passed attempt. */
export const PASSED: ProbeOutcome = { result: "success", message: "" };

/** A failed attempt with `message`. */
export function failed(message: string): ProbeOutcome {
  return { result: "failure", message };
}

/** The `User-Agent` of the agent's probes, as the kubelet's (`kube-probe/1.36`). */
export const PROBE_USER_AGENT = "kube-probe/1.36";
