/**
 * Fault injection: latency, 503 answers, dropped connections, failing jobs, expired
 * sessions and a management node that is down. Set programmatically or with
 * `POST /__sim/faults` (see {@linkcode FaultRequest}).
 *
 * @module
 */

import { z } from "zod";
import { type ErrorCode, errorCode } from "./errors.ts";

/** Which requests a counted fault applies to. */
export interface RequestMatch {
  /** Path prefix after the context path, e.g. `/v1/api-jobs` or `/v1/vm-instances`. */
  path?: string;
  /** HTTP method, e.g. `PUT`. */
  method?: string;
}

/** How a down management node shows: no listener at all, or connections closed unanswered. */
export type DownMode = "refuse" | "close";

/** What the simulator does about faults that need more than bookkeeping. */
export interface FaultHooks {
  /** Invalidates every session. */
  expireSessions(): void;
  /** Called whenever the down state changes, so the listener can close or reopen. */
  downChanged(): void;
}

interface Counted extends RequestMatch {
  remaining: number;
}

interface FailingJobs {
  remaining: number;
  api?: string;
  error: ErrorCode;
}

const match = z.strictObject({ path: z.string().optional(), method: z.string().optional() });

/** The JSON body of `POST /__sim/faults`; every field is optional and applied in order. */
export const faultRequestSchema = z.strictObject({
  /** Clears every fault first. */
  reset: z.boolean().optional(),
  /** Milliseconds added before every answer under the context path. */
  latencyMs: z.number().int().nonnegative().optional(),
  /** The next `count` matching requests answer 503 SYS.1012. */
  unavailable: match.extend({ count: z.number().int().positive() }).optional(),
  /** The next `count` matching requests have their connection closed without an answer. */
  drop: match.extend({ count: z.number().int().positive() }).optional(),
  /** The next `count` async jobs (of `api`, e.g. `CreateVmInstance`) fail with `code`. */
  failJobs: z.strictObject({
    count: z.number().int().positive(),
    api: z.string().optional(),
    code: z.string().optional(),
    details: z.string().optional(),
  }).optional(),
  /** Invalidates every session, as if they had all expired. */
  expireSessions: z.boolean().optional(),
  /** The management node is down for `forMs` (or until `up`). */
  down: z.strictObject({
    forMs: z.number().int().positive(),
    mode: z.enum(["refuse", "close"]).optional(),
  }).optional(),
  /** Ends a down period early. */
  up: z.boolean().optional(),
});

/** A fault request as the admin endpoint accepts it. */
export type FaultRequest = z.infer<typeof faultRequestSchema>;

function applies(fault: Counted | undefined, path: string, method: string): boolean {
  if (!fault || fault.remaining <= 0) return false;
  if (fault.path !== undefined && !path.startsWith(fault.path)) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== method) return false;
  return true;
}

/** The faults in force; the server consults it on every request. */
export class Faults {
  /** Milliseconds added before every answer. */
  latencyMs = 0;

  readonly #hooks: FaultHooks;
  #unavailable?: Counted;
  #drop?: Counted;
  #failJobs?: FailingJobs;
  #downUntil = 0;
  #downMode: DownMode = "refuse";
  #downTimer?: ReturnType<typeof setTimeout>;

  /** Creates the fault switchboard. */
  constructor(hooks: FaultHooks) {
    this.#hooks = hooks;
  }

  /** Adds `ms` of latency to every answer (0 turns it off). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** The next `count` matching requests answer 503 with SYS.1012. */
  unavailable(count: number, where: RequestMatch = {}): void {
    this.#unavailable = { remaining: count, ...where };
  }

  /** The next `count` matching requests lose their connection without an answer. */
  dropConnections(count: number, where: RequestMatch = {}): void {
    this.#drop = { remaining: count, ...where };
  }

  /** The next `count` jobs (of `api` if given, e.g. `StartVmInstance`) fail with `error`. */
  failJobs(count: number, options: { api?: string; error?: ErrorCode } = {}): void {
    this.#failJobs = {
      remaining: count,
      api: options.api,
      error: options.error ?? errorCode("SYS.1000", "injected job failure"),
    };
  }

  /** Invalidates every session: the next call with one gets ID.1001. */
  expireSessions(): void {
    this.#hooks.expireSessions();
  }

  /**
   * Takes the management node down for `forMs`: `refuse` stops listening (connection
   * refused), `close` accepts connections and closes them unanswered (the admin endpoint
   * stays reachable).
   */
  down(forMs: number, mode: DownMode = "refuse"): void {
    clearTimeout(this.#downTimer);
    this.#downUntil = Date.now() + forMs;
    this.#downMode = mode;
    this.#downTimer = setTimeout(() => this.up(), forMs);
    this.#hooks.downChanged();
  }

  /** Ends a down period. */
  up(): void {
    clearTimeout(this.#downTimer);
    this.#downTimer = undefined;
    if (this.#downUntil === 0) return;
    this.#downUntil = 0;
    this.#hooks.downChanged();
  }

  /** The current down mode, or undefined when the node is up. */
  downMode(): DownMode | undefined {
    return this.#downUntil > Date.now() ? this.#downMode : undefined;
  }

  /** Clears every fault. */
  reset(): void {
    this.latencyMs = 0;
    this.#unavailable = undefined;
    this.#drop = undefined;
    this.#failJobs = undefined;
    this.up();
  }

  /** Applies a request of the admin endpoint. */
  apply(request: FaultRequest): void {
    if (request.reset) this.reset();
    if (request.latencyMs !== undefined) this.setLatency(request.latencyMs);
    if (request.unavailable) {
      const { count, ...where } = request.unavailable;
      this.unavailable(count, where);
    }
    if (request.drop) {
      const { count, ...where } = request.drop;
      this.dropConnections(count, where);
    }
    if (request.failJobs) {
      const { count, api, code, details } = request.failJobs;
      this.failJobs(count, {
        api,
        error: errorCode(code ?? "SYS.1000", details ?? "injected job failure"),
      });
    }
    if (request.expireSessions) this.expireSessions();
    if (request.down) this.down(request.down.forMs, request.down.mode);
    if (request.up) this.up();
  }

  /** Whether this request must answer 503 (consumes one count). */
  takeUnavailable(path: string, method: string): boolean {
    if (!applies(this.#unavailable, path, method)) return false;
    this.#unavailable!.remaining--;
    return true;
  }

  /** Whether this request must lose its connection (consumes one count). */
  takeDrop(path: string, method: string): boolean {
    if (!applies(this.#drop, path, method)) return false;
    this.#drop!.remaining--;
    return true;
  }

  /** The injected error for a job of `api`, if one is due (consumes one count). */
  interceptJob(api: string): ErrorCode | undefined {
    const fault = this.#failJobs;
    if (!fault || fault.remaining <= 0) return undefined;
    if (fault.api !== undefined && fault.api !== api) return undefined;
    fault.remaining--;
    return fault.error;
  }

  /** The faults in force, for `GET /__sim/faults`. */
  describe(): Record<string, unknown> {
    return {
      latencyMs: this.latencyMs,
      unavailable: this.#unavailable?.remaining ? this.#unavailable : undefined,
      drop: this.#drop?.remaining ? this.#drop : undefined,
      failJobs: this.#failJobs?.remaining ? this.#failJobs : undefined,
      down: this.downMode()
        ? { mode: this.#downMode, until: new Date(this.#downUntil).toISOString() }
        : undefined,
    };
  }
}
