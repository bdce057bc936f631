/**
 * The JSON form of the state file's records: the zod schemas that read a state file's
 * first line and each change after it back into records (timestamps as ISO text, pod IPs
 * as dotted quads), and the functions that write records in that form.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { z } from "zod";
import { formatIpv4, parseIpv4 } from "./ip_pool.ts";
import {
  type ContainerInstance,
  noVolumeOperations,
  type SavedPod,
  type SavedVolume,
  type VirtualMachineRecord,
  type VolumeOperationCounts,
} from "./state_records.ts";

const timestamp = z.iso.datetime().transform((text) => Date.parse(text));

const instanceSchema = z.strictObject({
  image: z.string(),
  imageId: z.string(),
  containerId: z.string(),
  startedAt: timestamp,
  finishedAt: timestamp.optional(),
  exitCode: z.number().int().min(0).max(255).optional(),
  exitReason: z.string().optional(),
  exitMessage: z.string().optional(),
});

const count = z.number().int().min(0).default(0);

const vmSchema = z.strictObject({
  id: z.string().min(1),
  power: z.enum(["Running", "Stopped"]),
  host: z.string().min(1),
  since: timestamp,
  transition: z.strictObject({
    during: z.enum(["Starting", "Stopping", "Rebooting", "Migrating"]),
    until: timestamp,
    power: z.enum(["Running", "Stopped"]),
    host: z.string().min(1),
  }).optional(),
  diskGeneration: z.number().int().min(0),
  restoredFrom: z.string().min(1).optional(),
  snapshots: z.array(z.strictObject({
    id: z.string().min(1),
    name: z.string().min(1),
    createdAt: timestamp,
    readyAt: timestamp,
    ready: z.boolean(),
    diskGeneration: z.number().int().min(0),
  })),
  operations: z.strictObject({
    start: count,
    stop: count,
    restart: count,
    snapshot: count,
    restore: count,
    deleteSnapshot: count,
    migrate: count,
  }).prefault({}),
});

function isNamedPod(value: unknown): value is Pod {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const metadata = (value as Pod).metadata;
  return typeof metadata?.namespace === "string" && metadata.namespace !== "" &&
    typeof metadata.name === "string" && metadata.name !== "";
}

const savedPodSchema = z.strictObject({
  pod: z.custom<Pod>(isNamedPod, {
    error: "expected a pod object with metadata.namespace and metadata.name",
  }),
  // z.ipv4 has checked the text already.
  podIP: z.ipv4().transform((text) => parseIpv4(text) ?? 0),
  startTime: timestamp,
  containers: z.array(z.strictObject({
    name: z.string().min(1),
    kind: z.enum(["init", "sidecar", "app"]),
    current: instanceSchema,
    previous: instanceSchema.optional(),
    restartCount: z.number().int().min(0),
  })),
  retiredCpuNanoSeconds: z.number().min(0).default(0),
  vm: vmSchema.optional(),
});

const savedVolumeSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  claim: z.string(),
  sizeBytes: z.number().int().positive(),
  accessModes: z.array(z.string()),
  diskOffering: z.string().min(1),
  createdAt: timestamp,
  readyAt: timestamp,
  attachedVm: z.string().min(1).optional(),
});

const volumeOperationsSchema = z.strictObject({
  create: count,
  delete: count,
  expand: count,
  attach: count,
  detach: count,
}).prefault({});

/** The first line of a state file: the whole state (also a whole file of version 1). */
export const stateSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  pods: z.array(savedPodSchema),
  volumes: z.array(savedVolumeSchema).default([]),
  volumeOperations: volumeOperationsSchema,
});

/** One line after the first of a journal. */
export const changeSchema = z.union([
  z.strictObject({ pod: savedPodSchema }),
  z.strictObject({ removed: z.string().min(3) }),
  z.strictObject({ volumes: z.array(savedVolumeSchema), volumeOperations: volumeOperationsSchema }),
]);

function timeText(ms: number): string {
  return new Date(ms).toISOString();
}

function instanceJson(instance: ContainerInstance): z.input<typeof instanceSchema> {
  return {
    image: instance.image,
    imageId: instance.imageId,
    containerId: instance.containerId,
    startedAt: timeText(instance.startedAt),
    ...(instance.finishedAt === undefined ? {} : { finishedAt: timeText(instance.finishedAt) }),
    ...(instance.exitCode === undefined ? {} : { exitCode: instance.exitCode }),
    ...(instance.exitReason === undefined ? {} : { exitReason: instance.exitReason }),
    ...(instance.exitMessage === undefined ? {} : { exitMessage: instance.exitMessage }),
  };
}

function vmJson(vm: VirtualMachineRecord): z.input<typeof vmSchema> {
  const transition = vm.transition;
  return {
    id: vm.id,
    power: vm.power,
    host: vm.host,
    since: timeText(vm.since),
    ...(transition === undefined
      ? {}
      : { transition: { ...transition, until: timeText(transition.until) } }),
    diskGeneration: vm.diskGeneration,
    ...(vm.restoredFrom === undefined ? {} : { restoredFrom: vm.restoredFrom }),
    snapshots: vm.snapshots.map((snapshot) => ({
      ...snapshot,
      createdAt: timeText(snapshot.createdAt),
      readyAt: timeText(snapshot.readyAt),
    })),
    operations: vm.operations,
  };
}

/** The JSON form of a volume. */
export function volumeJson(volume: SavedVolume): z.input<typeof savedVolumeSchema> {
  return {
    ...volume,
    createdAt: timeText(volume.createdAt),
    readyAt: timeText(volume.readyAt),
  };
}

/** The JSON form of a pod, its containers and its VM. */
export function podJson(saved: SavedPod): z.input<typeof savedPodSchema> {
  return {
    pod: saved.pod,
    podIP: formatIpv4(saved.ip),
    startTime: timeText(saved.startTime),
    containers: saved.containers.map((container) => ({
      name: container.name,
      kind: container.kind,
      current: instanceJson(container.current),
      ...(container.previous === undefined ? {} : { previous: instanceJson(container.previous) }),
      restartCount: container.restartCount,
    })),
    retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
    ...(saved.vm === undefined ? {} : { vm: vmJson(saved.vm) }),
  };
}

/**
 * The text of a state file holding `pods` and, when given, volumes and their counts: the
 * first line of a journal, without changes after it.
 */
export function encodeState(
  pods: readonly SavedPod[],
  extra: { volumes?: readonly SavedVolume[]; volumeOperations?: VolumeOperationCounts } = {},
): string {
  const state: z.input<typeof stateSchema> = {
    version: 2,
    volumes: (extra.volumes ?? []).map(volumeJson),
    volumeOperations: extra.volumeOperations ?? noVolumeOperations(),
    pods: pods.map(podJson),
  };
  return `${JSON.stringify(state)}\n`;
}

/** The record of a pod read back from its JSON form. */
export function savedPodOf(saved: z.output<typeof savedPodSchema>): SavedPod {
  return {
    pod: saved.pod,
    ip: saved.podIP,
    startTime: saved.startTime,
    containers: saved.containers,
    retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
    ...(saved.vm === undefined ? {} : { vm: saved.vm }),
  };
}
