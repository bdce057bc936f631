/**
 * What a process has used so far, read from `/proc`: its peak resident memory (`VmHWM`,
 * the high-water mark the kernel keeps) and the CPU time it spent in user and system mode.
 *
 * @module
 */

/** Peak memory and CPU time of one process. */
export interface ProcessUsage {
  /** Peak resident set size, in MiB. */
  peakRssMiB: number;
  /** User plus system CPU time, in seconds. */
  cpuSeconds: number;
}

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/** Peak RSS and CPU seconds of process `pid` so far. */
export function processUsage(pid: number): ProcessUsage {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? "0");
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return { peakRssMiB: peakKb / 1024, cpuSeconds: ticks / CLOCK_TICKS };
}
