/**
 * The poll-and-diff status loop: one list of every pod per interval (a single query of
 * the backend), each reported through a `PodStatusReporter`, so that only pods whose
 * status changed reach the agent. Providers whose backend has no event stream use it for
 * `notifyPods`; the agent uses it for providers without `PodNotifier`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import type { PodStatusReporter } from "./status_reporter.ts";

const logger = getLogger(["vkedge", "provider_kit", "poll"]);

/** Options of {@linkcode pollPodStatus}. */
export interface PollPodStatusOptions {
  /** Pause between the end of one list and the start of the next. */
  intervalMs: number;
  /** Lists every pod with its status, in one call to the backend. */
  list(signal: AbortSignal): Promise<Pod[]>;
  /** Receives each listed pod; it passes on only changes. */
  reporter: PodStatusReporter;
  /** What is polled, for logs, such as `ZStack VMs`. */
  what: string;
  /** Ends the loop. */
  signal: AbortSignal;
}

/**
 * Lists and reports every `intervalMs` until the signal aborts, starting at once. A failed
 * list is logged when its message differs from the last one, and the recovery once.
 */
export async function pollPodStatus(options: PollPodStatusOptions): Promise<void> {
  const { signal } = options;
  let lastError = "";
  while (!signal.aborted) {
    try {
      for (const pod of await options.list(signal)) options.reporter.report(pod);
      if (lastError !== "") {
        logger.info("polling {what} works again", { what: options.what });
        lastError = "";
      }
    } catch (error) {
      if (signal.aborted) return;
      const message = errorMessage(error);
      if (message !== lastError) {
        logger.warn("polling {what} failed: {error}", { what: options.what, error: message });
        lastError = message;
      }
    }
    await abortableSleep(options.intervalMs, signal);
  }
}
