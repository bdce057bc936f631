/**
 * ZStack's async jobs: a POST, PUT or DELETE answers 202 with a job `location`, polled
 * (100 ms, doubling up to a bound) until it answers 200 with the result or 503 with the
 * job's error. The location names the server's own, possibly internal, address, so it is
 * rewritten to the configured endpoint. Polls are counted in
 * `vkedge_zstack_job_polls_total`, jobs whose end was seen in
 * `vkedge_zstack_jobs_total{result}` (`succeeded`, `failed`, `timed_out`).
 *
 * @module
 */

import { UnavailableError } from "../../lib/provider.ts";
import { counter, sleep } from "../../lib/provider_kit/mod.ts";
import type { Authorizer, Exchange, ZStackTransport } from "./transport.ts";

const jobPollsTotal = counter({
  name: "vkedge_zstack_job_polls_total",
  help: "Polls of ZStack async jobs.",
});
const jobsTotal = counter({
  name: "vkedge_zstack_jobs_total",
  help: "ZStack async jobs by how they ended: succeeded, failed or timed_out (waited too long).",
  labelNames: ["result"],
});

/** 32 random lowercase hex characters, the form of every ZStack uuid (and job uuid). */
export function randomZStackUuid(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * Replaces scheme, host, port and context of a job `location` with the configured
 * endpoint (the server builds it from its own, possibly internal, address).
 */
export function rewriteJobLocation(location: string, endpoint: string): string {
  const index = location.indexOf("/v1/api-jobs/");
  if (index < 0) {
    throw new UnavailableError(
      `ZStack at ${endpoint}: expected a job location containing "/v1/api-jobs/", found "${location}"`,
    );
  }
  return `${endpoint.replace(/\/+$/, "")}${location.slice(index)}`;
}

/** One job to wait for. */
export interface PollJobOptions {
  /** What was submitted, such as `POST /v1/vm-instances`, for messages. */
  operation: string;
  /** The `location` of the 202 answer. */
  location: string;
  /** The `apiTimeout` of the 202 answer, if any. */
  apiTimeoutMs?: number;
  /** Longest wait, whatever `apiTimeoutMs` says. */
  jobTimeoutMs: number;
  /** Longest pause between two polls. */
  maxPollIntervalMs: number;
  /** The session of the submission. */
  authorize: Authorizer;
  /** Aborts the polling. */
  signal: AbortSignal;
}

/**
 * Polls the job until it ends and returns its 200 answer, the result. A failed job throws
 * what its answer says (`ZStackApiError` for a 503 with an `ErrorCode`); a job ZStack no
 * longer knows or one that outlives its timeout throws `UnavailableError`.
 */
export async function pollJob(
  transport: ZStackTransport,
  options: PollJobOptions,
): Promise<Exchange> {
  const { operation, signal } = options;
  const endpoint = transport.endpoint;
  const url = rewriteJobLocation(options.location, endpoint);
  const path = url.slice(url.indexOf("/v1/api-jobs/"));
  const limit = Math.min(options.apiTimeoutMs ?? options.jobTimeoutMs, options.jobTimeoutMs);
  const deadline = Date.now() + limit;
  let pause = 100;
  while (true) {
    jobPollsTotal.inc();
    const reply = await transport.send(
      `${operation} (job ${path})`,
      { method: "GET", path, url, authorize: options.authorize },
      { submitting: false, signal },
    );
    if (reply.status === 200) {
      jobsTotal.inc({ result: "succeeded" });
      return reply;
    }
    if (reply.status === 404) {
      jobsTotal.inc({ result: "failed" });
      throw new UnavailableError(
        `ZStack at ${endpoint}: ${operation}: expected the job ${path} to be known, found HTTP 404 "${
          reply.text.slice(0, 200)
        }" (job results expire after about 3 h)`,
      );
    }
    if (reply.status !== 202) {
      jobsTotal.inc({ result: "failed" });
      throw transport.failure(operation, reply);
    }
    if (Date.now() + pause > deadline) {
      jobsTotal.inc({ result: "timed_out" });
      throw new UnavailableError(
        `ZStack at ${endpoint}: ${operation}: expected job ${path} to end within ${limit} ms, found it still running`,
      );
    }
    await sleep(pause, signal);
    pause = Math.min(pause * 2, options.maxPollIntervalMs);
  }
}
