/**
 * The mock provider's state file: the pods it runs, kept on disk so that they outlive the
 * agent process as the machines of a real IaaS would. It is read once when the provider is
 * created and rewritten atomically (temporary file, then rename) after every change.
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
}

const timestamp = z.iso.datetime().transform((text) => Date.parse(text));

const instanceSchema = z.strictObject({
  image: z.string(),
  imageId: z.string(),
  containerId: z.string(),
  startedAt: timestamp,
  finishedAt: timestamp.optional(),
  exitReason: z.string().optional(),
  exitMessage: z.string().optional(),
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
});

const stateSchema = z.strictObject({
  version: z.literal(1),
  pods: z.array(savedPodSchema),
});

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
    ...(instance.exitReason === undefined ? {} : { exitReason: instance.exitReason }),
    ...(instance.exitMessage === undefined ? {} : { exitMessage: instance.exitMessage }),
  };
}

/** The text of a state file holding `pods`. */
export function encodeState(pods: readonly SavedPod[]): string {
  const state: z.input<typeof stateSchema> = {
    version: 1,
    pods: pods.map((saved) => ({
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
    })),
  };
  return `${JSON.stringify(state, null, 2)}\n`;
}

/**
 * Reads the pods saved in the state file at `path`; a missing file holds none. Throws
 * `InvalidInputError` naming the file and the offending field when it cannot be used.
 */
export function readStateFile(path: string): SavedPod[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new InvalidInputError(
      `mock provider state file ${path}: expected a readable file, found ${errorMessage(error)}`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `mock provider state file ${path}: expected JSON, found a syntax error: ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  const result = stateSchema.safeParse(json);
  if (!result.success) {
    throw new InvalidInputError(
      `mock provider state file ${path}: ${describeConfigIssues(result.error)}`,
      { cause: result.error },
    );
  }
  return result.data.pods.map((saved) => ({
    pod: saved.pod,
    ip: saved.podIP,
    startTime: saved.startTime,
    containers: saved.containers,
    retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
  }));
}

/** Replaces the file at `path` with `text` so that a reader sees the old or the new content. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  const bytes = new TextEncoder().encode(text);
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
}

/**
 * Saves snapshots to the state file, one write at a time: changes made while a write is in
 * progress are saved together by the next one, so a burst of changes costs two writes.
 */
export class StateFileWriter {
  readonly #path: string;
  readonly #snapshot: () => SavedPod[];
  #last: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;

  /** A writer of `snapshot()` to the file at `path`. */
  constructor(path: string, snapshot: () => SavedPod[]) {
    this.#path = path;
    this.#snapshot = snapshot;
  }

  /** Resolves once a snapshot taken after this call is on disk. */
  save(): Promise<void> {
    if (this.#next === undefined) {
      const write = this.#last.then(() => {
        // From here on, changes need a later write: this snapshot may miss them.
        this.#next = undefined;
        return writeAtomically(this.#path, encodeState(this.#snapshot()));
      });
      this.#next = write;
      this.#last = write.catch(() => undefined);
    }
    return this.#next;
  }
}
