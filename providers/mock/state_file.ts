/**
 * The mock provider's state file: the pods it runs and the VMs behind them (power, host,
 * snapshots, an action in progress), and its volumes with the counts of what was done to
 * them, kept on disk so that they outlive the agent process as the machines and disks of
 * a real IaaS would. It is read once when the provider is created.
 *
 * The file is a journal of JSON lines: the first line holds the whole state
 * (`{"version":2,"pods":[…],"volumes":[…],"volumeOperations":{…}}`), each later line one
 * change: `{"pod":{…}}` (a pod as it is now), `{"removed":"namespace/name"}`, or
 * `{"volumes":[…],"volumeOperations":{…}}`. A change appends its lines (and syncs them to
 * disk) instead of rewriting the file; once the appended lines outgrow the first one
 * (and 1 MiB), the file is rewritten atomically (temporary file, then rename) as one line
 * again, so writing costs about twice the state, not the state per change. A torn last
 * line (the machine stopped mid-write) is ignored. Files of version 1 (one JSON document)
 * are read too, and replaced by the journal on the first change.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import { describeConfigIssues, errorMessage } from "../../lib/provider_kit/mod.ts";
import { formatIpv4, parseIpv4 } from "./ip_pool.ts";

/** One run of a container: what `ContainerStatus.state` is computed from. */
export interface ContainerInstance {
  image: string;
  imageId: string;
  containerId: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** Milliseconds since the epoch; absent while running. */
  finishedAt?: number;
  /** The exit code of a run that ended (0 when absent). */
  exitCode?: number;
  exitReason?: string;
  exitMessage?: string;
}

/** A container of a mock pod with its current and previous run. */
export interface ContainerRecord {
  name: string;
  kind: "init" | "sidecar" | "app";
  current: ContainerInstance;
  previous?: ContainerInstance;
  restartCount: number;
}

/** The power states a VM rests in; `VmTransition` covers the ones in between. */
export type RestingPower = "Running" | "Stopped";

/** An action in progress on a VM: its power state until `until`, then `power` on `host`. */
export interface VmTransition {
  /** The power state while it lasts. */
  during: "Starting" | "Stopping" | "Rebooting" | "Migrating";
  /** When it ends (milliseconds since the epoch). */
  until: number;
  /** The power state it ends in. */
  power: RestingPower;
  /** The host it ends on. */
  host: string;
}

/** A snapshot of a VM's disks. */
export interface SnapshotRecord {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When taking it ends (milliseconds since the epoch). */
  readyAt: number;
  /** Whether taking it has ended. */
  ready: boolean;
  /** The disk generation it holds, which a restore brings back. */
  diskGeneration: number;
}

/** The VM actions the mock counts, so tests can tell that one happened exactly once. */
export type VmOperation =
  | "start"
  | "stop"
  | "restart"
  | "snapshot"
  | "restore"
  | "deleteSnapshot"
  | "migrate";

/** How many times each action was carried out on one VM (repeats that did nothing excluded). */
export type VmOperationCounts = Record<VmOperation, number>;

/** The simulated VM behind a mock pod. */
export interface VirtualMachineRecord {
  /** Its identifier (a uuid), kept for the VM's whole life, across pod objects. */
  id: string;
  /** The power state it rests in, or will once `transition` ends. */
  power: RestingPower;
  /** The host it runs on (the source host while migrating). */
  host: string;
  /** When its current power state began (milliseconds since the epoch). */
  since: number;
  /** The action in progress, if any. */
  transition?: VmTransition;
  /** Counts the boots on these disks; a restore sets it back to the snapshot's. */
  diskGeneration: number;
  /** The snapshot the disks were last reverted to. */
  restoredFrom?: string;
  snapshots: SnapshotRecord[];
  operations: VmOperationCounts;
}

/** The volume actions the mock counts, so tests can tell that one happened exactly once. */
export type VolumeOperation = "create" | "delete" | "expand" | "attach" | "detach";

/** How many times each volume action was carried out (repeats that did nothing excluded). */
export type VolumeOperationCounts = Record<VolumeOperation, number>;

/** One volume of the mock provider. */
export interface SavedVolume {
  /** Its identifier (a uuid). */
  id: string;
  /** The name it was created for (`VolumeRequest.name`). */
  name: string;
  /** The claim, `namespace/name`. */
  claim: string;
  sizeBytes: number;
  accessModes: string[];
  /** The disk offering it was made from. */
  diskOffering: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When creating it ends (milliseconds since the epoch). */
  readyAt: number;
  /** The id of the VM it is attached to, if any. */
  attachedVm?: string;
}

/** Everything the state file keeps. */
export interface SavedState {
  pods: SavedPod[];
  volumes: SavedVolume[];
  volumeOperations: VolumeOperationCounts;
}

/** What the state file keeps of one pod; its status is computed from it. */
export interface SavedPod {
  /** The pod as created or last updated, without status. */
  pod: Pod;
  /** Pod IP as an unsigned 32-bit integer. */
  ip: number;
  /** Milliseconds since the epoch. */
  startTime: number;
  containers: ContainerRecord[];
  /** CPU time of container runs that ended, in nanoseconds. */
  retiredCpuNanoSeconds: number;
  /** Its VM; absent in files written before the mock simulated VMs. */
  vm?: VirtualMachineRecord;
}

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

const stateSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  pods: z.array(savedPodSchema),
  volumes: z.array(savedVolumeSchema).default([]),
  volumeOperations: volumeOperationsSchema,
});

/** One line after the first of a journal. */
const changeSchema = z.union([
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

function volumeJson(volume: SavedVolume): z.input<typeof savedVolumeSchema> {
  return {
    ...volume,
    createdAt: timeText(volume.createdAt),
    readyAt: timeText(volume.readyAt),
  };
}

/** No volume action carried out yet. */
export function noVolumeOperations(): VolumeOperationCounts {
  return { create: 0, delete: 0, expand: 0, attach: 0, detach: 0 };
}

function podJson(saved: SavedPod): z.input<typeof savedPodSchema> {
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

/**
 * Reads the pods saved in the state file at `path`; a missing file holds none. Throws
 * `InvalidInputError` naming the file and the offending field when it cannot be used.
 */
export function readStateFile(path: string): SavedPod[] {
  return readState(path).pods;
}

/**
 * Reads everything saved in the state file at `path` (pods, volumes, volume counts); a
 * missing file holds nothing. Throws `InvalidInputError` like {@linkcode readStateFile}.
 */
export function readState(path: string): SavedState {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { pods: [], volumes: [], volumeOperations: noVolumeOperations() };
    }
    throw new InvalidInputError(
      `mock provider state file ${path}: expected a readable file, found ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const { base, changes } = splitJournal(path, text);
  const result = stateSchema.safeParse(base);
  if (!result.success) {
    throw new InvalidInputError(
      `mock provider state file ${path}: ${describeConfigIssues(result.error)}`,
      { cause: result.error },
    );
  }
  const pods = new Map<string, SavedPod>();
  for (const saved of result.data.pods) {
    const key = `${saved.pod.metadata!.namespace}/${saved.pod.metadata!.name}`;
    if (pods.has(key)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected one entry per pod, found ${key} twice`,
      );
    }
    pods.set(key, savedPodOf(saved));
  }
  let volumes = result.data.volumes;
  let volumeOperations = result.data.volumeOperations;
  changes.forEach((json, index) => {
    const change = changeSchema.safeParse(json);
    if (!change.success) {
      throw new InvalidInputError(
        `mock provider state file ${path}, line ${index + 2}: ${
          describeConfigIssues(change.error)
        }`,
        { cause: change.error },
      );
    }
    const data = change.data;
    if ("pod" in data) {
      const saved = savedPodOf(data.pod);
      pods.set(`${saved.pod.metadata!.namespace}/${saved.pod.metadata!.name}`, saved);
    } else if ("removed" in data) {
      pods.delete(data.removed);
    } else {
      volumes = data.volumes;
      volumeOperations = data.volumeOperations;
    }
  });
  return {
    pods: [...pods.values()],
    volumes: volumes.map((volume) => {
      const { attachedVm, ...rest } = volume;
      return attachedVm === undefined ? rest : { ...rest, attachedVm };
    }),
    volumeOperations,
  };
}

/**
 * The first JSON value of the file and the changes after it: one JSON document (version 1,
 * or a journal without changes), else JSON lines whose torn last line is dropped.
 */
function splitJournal(path: string, text: string): { base: unknown; changes: unknown[] } {
  try {
    return { base: JSON.parse(text), changes: [] };
  } catch (error) {
    const lines = text.split("\n");
    if (lines.length < 2) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected JSON, found a syntax error: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
    const values: unknown[] = [];
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      try {
        values.push(JSON.parse(line));
      } catch (lineError) {
        // A change cut short by a crash is the last line, without its newline.
        if (index === lines.length - 1 && index > 0) return;
        throw new InvalidInputError(
          `mock provider state file ${path}, line ${
            index + 1
          }: expected JSON, found a syntax error: ${errorMessage(lineError)}`,
          { cause: lineError },
        );
      }
    });
    return { base: values[0], changes: values.slice(1) };
  }
}

function savedPodOf(saved: z.output<typeof savedPodSchema>): SavedPod {
  return {
    pod: saved.pod,
    ip: saved.podIP,
    startTime: saved.startTime,
    containers: saved.containers,
    retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
    ...(saved.vm === undefined ? {} : { vm: saved.vm }),
  };
}

/** Replaces the file at `path` with `text` so that a reader sees the old or the new content. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
}

/** Appends `text` to the file at `path` and syncs it to disk. */
async function append(path: string, text: string): Promise<void> {
  const file = await Deno.open(path, { write: true, append: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    await file.syncData();
  } finally {
    file.close();
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Where {@linkcode StateFileWriter} reads what to save. */
export interface StateSource {
  /** The pod `namespace/name` as it is now, or `undefined` once it is gone. */
  pod(key: string): SavedPod | undefined;
  /** The volumes and their counts as they are now. */
  volumes(): Omit<SavedState, "pods">;
  /** Every pod, the volumes and their counts: the whole state. */
  all(): SavedState;
}

/** Appended bytes that never cause a rewrite, whatever the size of the first line. */
const MIN_REWRITE_BYTES = 1024 * 1024;

/**
 * Saves changes to the state file, one write at a time: changes made while a write is in
 * progress are saved together by the next one, so a burst of changes costs two writes,
 * each appending only the pods that changed (see the module documentation).
 */
export class StateFileWriter {
  readonly #path: string;
  readonly #source: StateSource;
  readonly #pods = new Set<string>();
  #volumes = false;
  /** Bytes of the first line, once this writer has written it. */
  #baseBytes: number | undefined;
  #appendedBytes = 0;
  #last: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;

  /** A writer of `source` to the file at `path`; its first write rewrites the file. */
  constructor(path: string, source: StateSource) {
    this.#path = path;
    this.#source = source;
  }

  /** Resolves once the pod `key` as it is now (or its absence) is on disk. */
  savePod(key: string): Promise<void> {
    this.#pods.add(key);
    return this.#schedule();
  }

  /** Resolves once the volumes and their counts as they are now are on disk. */
  saveVolumes(): Promise<void> {
    this.#volumes = true;
    return this.#schedule();
  }

  #schedule(): Promise<void> {
    if (this.#next === undefined) {
      const write = this.#last.then(() => {
        // From here on, changes need a later write: this one may miss them.
        this.#next = undefined;
        return this.#write();
      });
      this.#next = write;
      this.#last = write.catch(() => {
        // The changes of a failed write are saved by the next one, as a whole.
        this.#baseBytes = undefined;
      });
    }
    return this.#next;
  }

  async #write(): Promise<void> {
    const keys = [...this.#pods];
    const volumes = this.#volumes;
    this.#pods.clear();
    this.#volumes = false;
    const base = this.#baseBytes;
    if (base === undefined || this.#appendedBytes > Math.max(base, MIN_REWRITE_BYTES)) {
      const { pods, ...rest } = this.#source.all();
      const text = encodeState(pods, rest);
      await writeAtomically(this.#path, text);
      this.#baseBytes = text.length;
      this.#appendedBytes = 0;
      return;
    }
    const lines: string[] = [];
    for (const key of keys) {
      const saved = this.#source.pod(key);
      lines.push(JSON.stringify(saved === undefined ? { removed: key } : { pod: podJson(saved) }));
    }
    if (volumes) {
      const { volumes, volumeOperations } = this.#source.volumes();
      lines.push(JSON.stringify({ volumes: volumes.map(volumeJson), volumeOperations }));
    }
    const text = `${lines.join("\n")}\n`;
    await append(this.#path, text);
    this.#appendedBytes += text.length;
  }
}
