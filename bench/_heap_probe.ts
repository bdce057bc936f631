/**
 * Preloaded into an agent (`deno run --preload bench/_heap_probe.ts mod.ts …`) to see where
 * its memory goes: every 250 ms it appends `Deno.memoryUsage()` as one JSON line to
 * `$VKEDGE_MEMORY_LOG`, and on SIGUSR2 it collects garbage (with `--v8-flags=--expose-gc`),
 * logs the live heap and writes a V8 heap snapshot into `$VKEDGE_HEAP_SNAPSHOT_DIR`.
 *
 * @module
 */

import { setFlagsFromString, writeHeapSnapshot } from "node:v8";

const runtimeFlags = Deno.env.get("VKEDGE_PROBE_SET_V8_FLAGS");
if (runtimeFlags) setFlagsFromString(runtimeFlags);

const memoryLog = Deno.env.get("VKEDGE_MEMORY_LOG");
const snapshotDir = Deno.env.get("VKEDGE_HEAP_SNAPSHOT_DIR") ?? ".";
const started = performance.now();

function sample(label: string): string {
  const usage = Deno.memoryUsage();
  return JSON.stringify({ label, ms: Math.round(performance.now() - started), ...usage });
}

if (memoryLog) {
  const file = Deno.openSync(memoryLog, { write: true, create: true, append: true });
  const encoder = new TextEncoder();
  const timer = setInterval(() => file.writeSync(encoder.encode(sample("tick") + "\n")), 250);
  Deno.unrefTimer(timer);
}

Deno.addSignalListener("SIGUSR2", () => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  console.error(`heap probe: ${sample(collect ? "after gc" : "no gc")}`);
  const path = writeHeapSnapshot(`${snapshotDir}/vkedge-${Date.now()}.heapsnapshot`);
  console.error(`heap probe: snapshot ${path}`);
});
