/**
 * The simulator's own endpoints under `/__sim`, outside the ZStack context path, so that a
 * test can drive a simulator running as a separate process:
 *
 * - `GET /__sim/health`: `{"ok": true}`
 * - `GET /__sim/stats`: API call counts; `DELETE /__sim/stats` resets them
 * - `GET /__sim/faults`: faults in force; `POST /__sim/faults` with a {@linkcode FaultRequest}
 * - `GET /__sim/state`: the whole inventory (VMs with NICs and volumes, hosts, ...)
 * - `POST /__sim/vms/{uuid}/state` `{"state": "Crashed"}`: what a host sync would report
 * - `POST /__sim/vms/{uuid}/guest` `{"ignoresShutdown": true}`: a guest that ignores graceful
 *   stops (the KVM agent then cuts the power after its timeout)
 * - `POST /__sim/access-keys` `{"AccessKeyID"?, "AccessKeySecret"?}`: a key of the admin account
 *
 * @module
 */

import { z } from "zod";
import { faultRequestSchema } from "./faults.ts";
import { toWire, type VmState } from "./inventory.ts";
import type { SimParts } from "./server.ts";
import { getVm, vmView } from "./state/lookup.ts";
import { forceVmState, ignoreGuestShutdown } from "./state/vm_actions.ts";

const VM_STATES = [
  "Created",
  "Starting",
  "Running",
  "Stopping",
  "Stopped",
  "Rebooting",
  "Destroying",
  "Destroyed",
  "Migrating",
  "Expunging",
  "Pausing",
  "Paused",
  "Resuming",
  "VolumeMigrating",
  "VolumeRecovering",
  "Error",
  "NoState",
  "Unknown",
  "Crashed",
] as const satisfies readonly VmState[];

const vmStateSchema = z.strictObject({ state: z.enum(VM_STATES) });
const guestSchema = z.strictObject({ ignoresShutdown: z.boolean() });
const accessKeySchema = z.strictObject({
  AccessKeyID: z.string().min(1).optional(),
  AccessKeySecret: z.string().min(1).optional(),
});

function answer(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  return text.trim() ? JSON.parse(text) : {};
}

/** Everything the simulator holds, for assertions from another process. */
export function describeState(parts: SimParts): Record<string, unknown> {
  const { state } = parts;
  return toWire({
    zones: [...state.zones.values()],
    clusters: [...state.clusters.values()],
    hosts: [...state.hosts.values()],
    images: [...state.images.values()],
    instanceOfferings: [...state.instanceOfferings.values()],
    diskOfferings: [...state.diskOfferings.values()],
    l3Networks: [...state.l3Networks.values()],
    primaryStorages: [...state.primaryStorages.values()],
    backupStorages: [...state.backupStorages.values()],
    vms: [...state.vms.values()].map((vm) => vmView(state, vm)),
    volumes: [...state.volumes.values()],
    snapshots: [...state.snapshots.values()],
    tags: [...state.tags.values()],
    sessions: parts.auth.sessions().length,
    jobs: parts.jobs.list().length,
  }) as Record<string, unknown>;
}

/** Answers a request under `/__sim`. */
export async function handleAdmin(parts: SimParts, request: Request, url: URL): Promise<Response> {
  const path = url.pathname.slice("/__sim".length);
  const route = `${request.method} ${path}`;
  try {
    if (route === "GET /health") return answer(200, { ok: true });
    if (route === "GET /stats") return answer(200, parts.stats.snapshot());
    if (route === "DELETE /stats") {
      parts.stats.reset();
      return answer(200, parts.stats.snapshot());
    }
    if (route === "GET /faults") return answer(200, parts.faults.describe());
    if (route === "POST /faults") {
      const parsed = faultRequestSchema.safeParse(await readJson(request));
      if (!parsed.success) return answer(400, { error: parsed.error.issues });
      parts.faults.apply(parsed.data);
      return answer(200, parts.faults.describe());
    }
    if (route === "GET /state") return answer(200, describeState(parts));
    if (route === "POST /access-keys") {
      const parsed = accessKeySchema.safeParse(await readJson(request));
      if (!parsed.success) return answer(400, { error: parsed.error.issues });
      return answer(200, toWire(parts.auth.createAccessKey(parsed.data)));
    }
    const vmState = /^POST \/vms\/([0-9a-f]{32})\/state$/.exec(route);
    if (vmState) {
      const parsed = vmStateSchema.safeParse(await readJson(request));
      if (!parsed.success) return answer(400, { error: parsed.error.issues });
      if (!parts.state.vms.has(vmState[1])) return answer(404, { error: `no vm ${vmState[1]}` });
      forceVmState(parts.state, vmState[1], { to: parsed.data.state });
      return answer(200, toWire(vmView(parts.state, getVm(parts.state, vmState[1]))));
    }
    const guest = /^POST \/vms\/([0-9a-f]{32})\/guest$/.exec(route);
    if (guest) {
      const parsed = guestSchema.safeParse(await readJson(request));
      if (!parsed.success) return answer(400, { error: parsed.error.issues });
      if (!parts.state.vms.has(guest[1])) return answer(404, { error: `no vm ${guest[1]}` });
      ignoreGuestShutdown(parts.state, guest[1], parsed.data.ignoresShutdown);
      return answer(200, { ignoresShutdown: parsed.data.ignoresShutdown });
    }
    return answer(404, { error: `no simulator endpoint ${route}` });
  } catch (error) {
    return answer(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
