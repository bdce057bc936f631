/**
 * Runs the ZStack simulator on its own:
 *
 * ```sh
 * deno task zstack-sim --port 8080 [--seed seed.yaml] [--job-duration 100] [--vm-boot 1000] \
 *   [--transition 100] [--session-timeout 7200] [--guest-shutdown-timeout 60000] \
 *   [--data-volume-delete-on-vm-destroy] [--hostname 127.0.0.1]
 * ```
 *
 * `--transition` is how long Stopping, Destroying, a data volume's Creating, … last (default
 * the job duration); `--data-volume-delete-on-vm-destroy` sets ZStack's
 * `dataVolume.deleteOnVmDestroy`.
 *
 * Prints the base URL (`http://127.0.0.1:8080/zstack`) on standard output and stops on
 * SIGTERM or SIGINT.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { startSimulator } from "./mod.ts";

const integer = (name: string) =>
  z.string().regex(/^\d+$/, `--${name} takes a non-negative integer`).transform(Number);

const flagsSchema = z.strictObject({
  port: integer("port").default(8080),
  hostname: z.string().default("127.0.0.1"),
  seed: z.string().optional(),
  "job-duration": integer("job-duration").optional(),
  "vm-boot": integer("vm-boot").optional(),
  transition: integer("transition").optional(),
  "session-timeout": integer("session-timeout").optional(),
  "job-expiry": integer("job-expiry").optional(),
  "location-base": z.string().optional(),
  "guest-shutdown-timeout": integer("guest-shutdown-timeout").optional(),
  "data-volume-delete-on-vm-destroy": z.boolean().default(false),
});

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      hostname: { type: "string" },
      seed: { type: "string" },
      "job-duration": { type: "string" },
      "vm-boot": { type: "string" },
      transition: { type: "string" },
      "session-timeout": { type: "string" },
      "job-expiry": { type: "string" },
      "location-base": { type: "string" },
      "guest-shutdown-timeout": { type: "string" },
      "data-volume-delete-on-vm-destroy": { type: "boolean" },
    },
    strict: true,
  });
  const parsed = flagsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`zstack-sim: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`);
    return 2;
  }
  const flags = parsed.data;
  const sim = await startSimulator({
    port: flags.port,
    hostname: flags.hostname,
    seed: flags.seed,
    jobDurationMs: flags["job-duration"],
    vmBootMs: flags["vm-boot"],
    transitionMs: flags.transition,
    sessionTimeoutSeconds: flags["session-timeout"],
    jobExpirySeconds: flags["job-expiry"],
    locationBase: flags["location-base"],
    guestShutdownTimeoutMs: flags["guest-shutdown-timeout"],
    dataVolumeDeleteOnVmDestroy: flags["data-volume-delete-on-vm-destroy"],
  });
  console.log(sim.url);
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await stopped.promise;
  Deno.removeSignalListener("SIGTERM", stop);
  Deno.removeSignalListener("SIGINT", stop);
  await sim.close();
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`zstack-sim: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
