/**
 * Async API jobs: every non-GET API (but the session calls) is answered 202 with a job
 * location at once and runs in the background; `GET /v1/api-jobs/{uuid}` answers 202
 * while it runs, then 200 with the result or 503 with the error, and 404 once the record
 * has expired (`rest/completedApi.expiredPeriod`).
 *
 * @module
 */

import { abortableSleep } from "../../lib/sleep.ts";
import { ApiError, type ErrorCode, errorCode } from "./errors.ts";

/** Settings of the job store. */
export interface JobOptions {
  /** The least time an async API takes, in milliseconds. */
  jobDurationMs: number;
  /** How long a finished job can be polled, in seconds (10800 on a real node). */
  jobExpirySeconds: number;
}

/** One async API call. */
export interface Job {
  uuid: string;
  api: string;
  state: "running" | "succeeded" | "failed";
  result?: unknown;
  error?: ErrorCode;
  createdAt: number;
  completedAt?: number;
}

/** What a poll answers: the status code and the body (JSON object or plain text). */
export type PollAnswer =
  | { status: 200 | 202 | 503; body: Record<string, unknown> }
  | { status: 404; text: string };

/** Decides, before a job runs, whether a fault makes it fail with an error instead. */
export type JobInterceptor = (api: string) => ErrorCode | undefined;

/** Runs and remembers async API jobs. */
export class Jobs {
  readonly #options: JobOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Set<Promise<void>>();
  readonly #signal: AbortSignal;
  readonly #intercept: JobInterceptor;

  /** Creates a job store; waits are cut short once `signal` aborts. */
  constructor(
    options: JobOptions,
    signal: AbortSignal,
    intercept: JobInterceptor = () => undefined,
  ) {
    this.#options = options;
    this.#signal = signal;
    this.#intercept = intercept;
  }

  /** Whether a job with `uuid` is known (a reused X-Job-UUID is refused). */
  has(uuid: string): boolean {
    return this.#jobs.has(uuid);
  }

  /** All jobs still on record. */
  list(): Job[] {
    return [...this.#jobs.values()];
  }

  /** Starts `run` as job `uuid` of `api`; it takes at least `jobDurationMs`. */
  start(uuid: string, api: string, run: () => Promise<unknown> | unknown): Job {
    const job: Job = { uuid, api, state: "running", createdAt: Date.now() };
    this.#jobs.set(uuid, job);
    const injected = this.#intercept(api);
    const work = (async () => {
      if (injected) throw new ApiError(injected);
      return await run();
    })();
    const done = Promise.allSettled([
      work,
      abortableSleep(this.#options.jobDurationMs, this.#signal),
    ]).then(
      ([outcome]) => {
        job.completedAt = Date.now();
        if (outcome.status === "fulfilled") {
          job.state = "succeeded";
          job.result = outcome.value ?? {};
        } else {
          job.state = "failed";
          const reason = outcome.reason;
          job.error = reason instanceof ApiError
            ? reason.error
            : errorCode("SYS.1000", reason instanceof Error ? reason.message : String(reason));
        }
      },
    );
    this.#running.add(done);
    done.finally(() => this.#running.delete(done));
    return job;
  }

  /** Answers `GET /v1/api-jobs/{uuid}`. */
  poll(uuid: string): PollAnswer {
    this.expire();
    const job = this.#jobs.get(uuid);
    if (!job) return { status: 404, text: "the job has been expired" };
    if (job.state === "running") return { status: 202, body: {} };
    if (job.state === "failed") return { status: 503, body: { error: job.error } };
    return { status: 200, body: job.result as Record<string, unknown> };
  }

  /** Forgets finished jobs older than the expiry period. */
  expire(now = Date.now()): void {
    const limit = this.#options.jobExpirySeconds * 1000;
    for (const [uuid, job] of this.#jobs) {
      if (job.completedAt !== undefined && now - job.completedAt >= limit) this.#jobs.delete(uuid);
    }
  }

  /** Resolves once every running job has finished. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
