/**
 * The machine as a resource benchmarks share. `make bench` (bench/run.ts) starts the
 * benchmarks whose minutes are mostly steady windows side by side: each holds the machine
 * while it starts its backend and times pods to Running, and lets it go for its steady
 * windows, in which an idle agent's calls are only counted (by its own backend or
 * identity, so what others do meanwhile does not change the count). A timed phase thus
 * never shares the machine with another timed phase; only idle agents and backends run
 * beside it.
 *
 * Upstream virtual-kubelet's runs in bench/pod_scale.ts, held by client-go to 5 QPS for
 * minutes, take the machine only for their bursts (creating 1000 pods, starting, cleaning
 * up) and go on beside the others otherwise.
 *
 * The machine is a file the kernel locks (`flock`), named by `VKEDGE_BENCH_MACHINE_LOCK`,
 * and released by the kernel when the process ends. A benchmark started on its own, without
 * that variable, holds nothing.
 *
 * @module
 */

const path = Deno.env.get("VKEDGE_BENCH_MACHINE_LOCK");
let lock: Deno.FsFile | undefined;

/** Whether this process holds the machine from {@linkcode holdMachine} on. */
let holding = false;

/** Waits until this benchmark has the machine to itself (for its timed phases). */
export async function holdMachine(): Promise<void> {
  if (path === undefined || holding) return;
  lock ??= await Deno.open(path, { create: true, write: true });
  await lock.lock(true);
  holding = true;
}

/**
 * Runs `work` (a timed phase) holding the machine, and lets it go afterwards: for a
 * benchmark that is mostly off the machine, such as upstream virtual-kubelet's runs held to
 * 5 QPS by client-go. Not for a benchmark that called {@linkcode holdMachine}.
 */
export async function onMachine<T>(work: () => Promise<T>): Promise<T> {
  if (path === undefined) return await work();
  lock ??= await Deno.open(path, { create: true, write: true });
  await lock.lock(true);
  try {
    return await work();
  } finally {
    await lock.unlock();
  }
}

/**
 * Runs `window` (a steady window: counting only) with the machine let go, and waits to
 * hold it again afterwards. `window` reads its counts itself, so that the wait to hold the
 * machine again is not counted in.
 */
export async function withoutMachine<T>(window: () => Promise<T>): Promise<T> {
  if (lock === undefined || !holding) return await window();
  await lock.unlock();
  try {
    return await window();
  } finally {
    await lock.lock(true);
  }
}
