/**
 * The writer of the mock's state file journal (the format is in `state_file.ts`): changes
 * are appended as JSON lines and synced, one write at a time, and the file is rewritten
 * atomically as one line once the appended lines outgrow the first one.
 *
 * @module
 */

import { encodeState, podJson, volumeJson } from "./state_codec.ts";
import type { SavedPod, SavedState } from "./state_records.ts";

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
