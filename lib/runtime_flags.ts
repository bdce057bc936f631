/**
 * The V8 flags the agent is shipped with (`make dist` and `make compile` carry them; for
 * `deno run` pass `--v8-flags=…` yourself). A long-running agent trades a little speed for
 * memory: with 1000 mock pods its live heap after a full collection is about 35 MB, but
 * V8's default young generation (16 MB semi-spaces) and heap growth let the burst of a
 * thousand pods starting at once grow the heap to ~105 MB and the RSS to ~220 MiB.
 * `--max-semi-space-size=1` and `--optimize-for-size` keep the peak near 145 MiB
 * (bench/pod_memory.ts).
 *
 * @module
 */

/** V8 flags for the agent process, as `--v8-flags` takes them (joined by commas). */
export const AGENT_V8_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--optimize-for-size"];

/** `--v8-flags=…` with {@linkcode AGENT_V8_FLAGS}, for a `deno run` or `deno compile` line. */
export function agentV8FlagsArgument(): string {
  return `--v8-flags=${AGENT_V8_FLAGS.join(",")}`;
}
