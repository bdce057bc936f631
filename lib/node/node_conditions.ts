/**
 * The node conditions the agent owns. Ready says whether the agent runs and talks to the
 * API server: a provider that does not answer does **not** make the node NotReady, since a
 * NotReady node gets the `not-ready:NoExecute` taint and every pod on it is evicted after
 * 300 s, which for a VM means destroying a VM that runs the whole time. The provider's
 * health is a condition of its own, `ProviderAvailable` (False with the reason: the IaaS
 * unreachable, or refusing our credentials), which the node controller pairs with a
 * `NoSchedule` taint so nothing new lands meanwhile. The pressure conditions come from the
 * provider when it reports them, and so do conditions of the provider's own types (such as
 * the swarm provider's `SwarmNodesReady`); each keeps its last transition time.
 *
 * @module
 */

import type { NodeCondition } from "kubernetes-types/core/v1.d.ts";
import { formatTime } from "../kube/mod.ts";
import { isUnauthenticated } from "../provider.ts";

/** Node condition types the agent owns; others' conditions are left alone. */
export const OWN_CONDITIONS = [
  "Ready",
  "ProviderAvailable",
  "MemoryPressure",
  "DiskPressure",
  "PIDPressure",
] as const;

/** The taint the node carries while its provider is unavailable: nothing new lands. */
export const PROVIDER_UNAVAILABLE_TAINT = {
  key: "vkedge.io/provider-unavailable",
  effect: "NoSchedule",
} as const;

/** The reason of a failed health check: the provider refuses our credentials, or does not answer. */
export function unavailableReason(provider: string, error: Error): string {
  return isUnauthenticated(error)
    ? `${capitalized(provider)}AuthenticationFailed`
    : `${capitalized(provider)}ProviderUnreachable`;
}

function capitalized(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** What the conditions are computed from. */
export interface NodeHealth {
  /** Why the provider's last ping failed, or undefined when it answered. */
  pingError?: Error;
  /** Conditions the provider reported (pressure and its own types; never Ready). */
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
  compute(
    now: Date,
    health: NodeHealth,
  ): { conditions: NodeCondition[]; readyChanged?: string; providerChanged?: string } {
    const provider = this.#providerName;
    const error = health.pingError;
    const own: Record<(typeof OWN_CONDITIONS)[number], Omit<NodeCondition, "type">> = {
      Ready: {
        status: "True",
        reason: "KubeletReady",
        message: error
          ? `vkedge is posting ready status; provider ${provider} is unavailable (see ProviderAvailable), so no pod is evicted for it`
          : `vkedge is posting ready status; provider ${provider} is healthy`,
      },
      ProviderAvailable: error
        ? {
          status: "False",
          reason: unavailableReason(provider, error),
          message: isUnauthenticated(error)
            ? `provider ${provider} refuses the agent's credentials: ${error.message}; fix them in the provider config (pods keep running, nothing new is scheduled here)`
            : `provider ${provider} did not answer its health check: ${error.message} (pods keep running, nothing new is scheduled here)`,
        }
        : {
          status: "True",
          reason: `${capitalized(provider)}ProviderHealthy`,
          message: `provider ${provider} answers its health check`,
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
    let providerChanged: string | undefined;
    const owned = new Set<string>(OWN_CONDITIONS);
    const providerTypes = [...fromProvider.keys()].filter((type) => !owned.has(type)).sort();
    const conditions = [...OWN_CONDITIONS, ...providerTypes].map((type) => {
      // A provider may report pressure conditions and its own; Ready is always the agent's.
      const base = type !== "Ready" && fromProvider.has(type)
        ? fromProvider.get(type)!
        : own[type as (typeof OWN_CONDITIONS)[number]];
      const previous = this.#transitions.get(type);
      const status = base.status;
      if (!previous || previous.status !== status) {
        this.#transitions.set(type, { status, at: stamp });
        if (type === "Ready" && previous) readyChanged = status;
        if (type === "ProviderAvailable" && (previous || status === "False")) {
          providerChanged = status;
        }
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
    return {
      conditions,
      ...(readyChanged === undefined ? {} : { readyChanged }),
      ...(providerChanged === undefined ? {} : { providerChanged }),
    };
  }
}
