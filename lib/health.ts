/**
 * The agent's health as `/healthz` and `/readyz` report it, in the form of the
 * Kubernetes components' health endpoints: named checks (the API server takes the agent's
 * writes, the provider answers its ping, the controllers run), each `[+]name ok` or
 * `[-]name failed: reason`, and whether the agent serves (every controller ready).
 *
 * @module
 */

/** The result of one check: `undefined` when healthy, else why not. */
export type HealthCheck = () => string | undefined;

/** The answer of a health endpoint. */
export interface HealthReport {
  /** Whether every check passed. */
  healthy: boolean;
  /** `ok`, or the lines of the failed checks; every check with `verbose`. */
  text: string;
}

/** The agent's named health checks and its readiness. */
export class AgentHealth {
  readonly #checks = new Map<string, HealthCheck>();
  #ready = false;
  #stopping = false;

  /** Adds (or replaces) the check `name`. */
  register(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** Marks the agent as serving (every controller ready). */
  markReady(): void {
    this.#ready = true;
  }

  /** Marks the agent as shutting down: it no longer serves. */
  markStopping(): void {
    this.#stopping = true;
  }

  /** `/healthz`: every check, failed ones named with their reasons. */
  healthz(options: { verbose?: boolean } = {}): HealthReport {
    return report([...this.#checks].map(([name, check]) => [name, check()]), options);
  }

  /** `/readyz`: whether the agent serves, after the same checks. */
  readyz(options: { verbose?: boolean } = {}): HealthReport {
    const serving = this.#stopping
      ? "shutting down"
      : this.#ready
      ? undefined
      : "controllers are still starting";
    return report(
      [
        ["serving", serving],
        ...[...this.#checks].map(([name, check]) =>
          [name, check()] as [string, string | undefined]
        ),
      ],
      options,
    );
  }
}

function report(
  results: [string, string | undefined][],
  options: { verbose?: boolean },
): HealthReport {
  const healthy = results.every(([, failure]) => failure === undefined);
  if (healthy && !options.verbose) return { healthy, text: "ok" };
  const lines = results
    .filter(([, failure]) => options.verbose || failure !== undefined)
    .map(([name, failure]) =>
      failure === undefined ? `[+]${name} ok` : `[-]${name} failed: ${failure}`
    );
  lines.push(healthy ? "check passed" : "check failed");
  return { healthy, text: lines.join("\n") };
}
