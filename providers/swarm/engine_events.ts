/**
 * The Engine's event stream for containers, services and nodes, kept open: each time it
 * opens, everything it may have missed is listed again; when it fails or ends, it is opened
 * again with a backoff (0.5 s doubling to 10 s), logging each new failure once.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { abortableSleep, errorMessage } from "../../lib/provider_kit/mod.ts";
import type { EngineEvent } from "./api_types.ts";
import type { EngineClient } from "./client.ts";

const logger = getLogger(["vkedge", "provider", "swarm", "tracker"]);

/** What {@linkcode followEngineEvents} calls. */
export interface EngineEventHandlers {
  /** Lists what the stream may have missed; called as the stream opens. */
  resync(signal: AbortSignal): Promise<void>;
  /** One event of the stream. */
  event(event: EngineEvent): void;
}

/** Follows the Engine's container, service and node events until `signal` aborts. */
export async function followEngineEvents(
  client: EngineClient,
  handlers: EngineEventHandlers,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  let lastError = "";
  while (!signal.aborted) {
    try {
      const events = client.events({ type: ["container", "service", "node"] }, signal);
      let first = true;
      // The stream is open once its first read starts; list everything it may have missed.
      const resync = handlers.resync(signal).catch((error) => {
        if (!signal.aborted) {
          logger.debug("listing after (re)connecting failed: {error}", {
            error: errorMessage(error),
          });
        }
      });
      for await (const event of events) {
        if (first) {
          first = false;
          failures = 0;
          if (lastError !== "") {
            logger.info("the Engine event stream is back");
            lastError = "";
          }
        }
        handlers.event(event);
      }
      await resync;
      if (signal.aborted) return;
      throw new Error("the event stream ended");
    } catch (error) {
      if (signal.aborted) return;
      const message = errorMessage(error);
      if (message !== lastError) {
        logger.warn("the Engine event stream failed: {error}; reconnecting", { error: message });
        lastError = message;
      }
      failures++;
      await abortableSleep(Math.min(500 * 2 ** Math.min(failures, 5), 10_000), signal);
    }
  }
}
