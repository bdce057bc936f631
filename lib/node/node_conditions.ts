/**
 * The node conditions the agent owns: Ready follows the provider's health (False, with a
 * reason naming the provider, while its ping fails), the pressure conditions come from the
 * provider when it reports them; each keeps its last transition time.
 *
 * @module
 */

import type { NodeCondition } from "kubernetes-types/core/v1.d.ts";
import { formatTime } from "../kube/mod.ts";

/** Node condition types the agent owns; others' conditions are left alone. */
export const OWN_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;

function capitalized(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** What the conditions are computed from. */
export interface NodeHealth {
  /** Why the provider's last ping failed, or undefined when it answered. */
  pingError?: Error;
  /** Conditions the provider reported (pressure only; Ready is never taken from it). */
  providerConditions?: NodeCondition[];
}

/** The agent's node conditions, remembering when each last changed. */
export class NodeConditions {
  readonly #providerName: string;
  readonly #transitions = new Map<string, { status: string; at: string }>();

  /** Conditions for a node backed by provider `providerName`. */
  constructor(providerName: string) {
    this.#providerName = providerName;
  }

  /**
   * The conditions at `now`, and the new status of Ready when it changed (not on the first
   * computation).
   */
  compute(now: Date, health: NodeHealth): { conditions: NodeCondition[]; readyChanged?: string } {
    const provider = this.#providerName;
    const error = health.pingError;
    const own: Record<(typeof OWN_CONDITIONS)[number], Omit<NodeCondition, "type">> = {
      Ready: error
        ? {
          status: "False",
          reason: `${capitalized(provider)}ProviderUnreachable`,
          message: `provider ${provider} did not answer its health check: ${error.message}`,
        }
        : {
          status: "True",
          reason: "KubeletReady",
          message: `vkedge is posting ready status; provider ${provider} is healthy`,
        },
      MemoryPressure: {
        status: "False",
        reason: "KubeletHasSufficientMemory",
        message: "vkedge has sufficient memory available",
      },
      DiskPressure: {
        status: "False",
        reason: "KubeletHasNoDiskPressure",
        message: "vkedge has no disk pressure",
      },
      PIDPressure: {
        status: "False",
        reason: "KubeletHasSufficientPID",
        message: "vkedge has sufficient PID available",
      },
    };
    const fromProvider = new Map((health.providerConditions ?? []).map((c) => [c.type, c]));
    const stamp = formatTime(now);
    let readyChanged: string | undefined;
    const conditions = OWN_CONDITIONS.map((type) => {
      // A provider may report pressure conditions; Ready is always the agent's.
      const base = type !== "Ready" && fromProvider.has(type) ? fromProvider.get(type)! : own[type];
      const previous = this.#transitions.get(type);
      const status = base.status;
      if (!previous || previous.status !== status) {
        this.#transitions.set(type, { status, at: stamp });
        if (type === "Ready" && previous) readyChanged = status;
      }
      return {
        type,
        status,
        reason: base.reason,
        message: base.message,
        lastHeartbeatTime: stamp,
        lastTransitionTime: this.#transitions.get(type)!.at,
      };
    });
    return readyChanged === undefined ? { conditions } : { conditions, readyChanged };
  }
}
