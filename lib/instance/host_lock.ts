/**
 * One agent per node on one host: an exclusive `flock` on `<lock dir>/<node>.lock`, which
 * the kernel releases when the process ends, however it ends. A second start for the same
 * node finds the lock taken and learns from the file which process holds it; the first
 * start after a dead one learns that one's leader election identity, whose Lease it may
 * then take over at once (the holder is provably gone).
 *
 * @module
 */

import { z } from "zod";
import { errorMessage } from "../errors.ts";

/** What the holder of a host lock writes into the lock file. */
export interface HostLockRecord {
  /** Process id of the holder. */
  pid: number;
  /** When the holder took the lock (RFC 3339). */
  since: string;
  /** The holder's leader election identity, once it has one. */
  identity?: string;
}

const recordSchema = z.object({
  pid: z.number().int(),
  since: z.string(),
  identity: z.string().optional(),
});

/** Outcome of {@linkcode acquireHostLock}. */
export type HostLockResult =
  | { acquired: true; lock: HostLock }
  | { acquired: false; path: string; holder?: HostLockRecord };

function parseRecord(bytes: Uint8Array): HostLockRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A held host lock; held until {@linkcode HostLock.release} or the end of the process. */
export class HostLock {
  /** The lock file. */
  readonly path: string;
  /** What the previous holder wrote, if an earlier process held the lock. */
  readonly previous: HostLockRecord | undefined;
  readonly #file: Deno.FsFile;
  #record: HostLockRecord;

  /** Wraps an open, locked file; use {@linkcode acquireHostLock}. */
  constructor(file: Deno.FsFile, path: string, previous: HostLockRecord | undefined) {
    this.#file = file;
    this.path = path;
    this.previous = previous;
    this.#record = { pid: Deno.pid, since: new Date().toISOString() };
  }

  /** Writes this process's record (pid, start, and `identity` when given) into the file. */
  async write(identity?: string): Promise<void> {
    this.#record = { ...this.#record, ...(identity === undefined ? {} : { identity }) };
    const bytes = new TextEncoder().encode(`${JSON.stringify(this.#record)}\n`);
    await this.#file.truncate(0);
    await this.#file.seek(0, Deno.SeekMode.Start);
    let written = 0;
    while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
  }

  /** Releases the lock (the file stays, with this process's record for the next one). */
  release(): void {
    try {
      this.#file.unlockSync();
    } finally {
      this.#file.close();
    }
  }
}

/**
 * Takes the exclusive lock of `nodeName` in `dir` (created, mode 0700, if missing) without
 * waiting. Resolves with the lock, or with what the current holder wrote when another
 * process holds it. Throws when the folder or file cannot be used, naming it.
 */
export async function acquireHostLock(dir: string, nodeName: string): Promise<HostLockResult> {
  const path = `${dir}/${nodeName}.lock`;
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    throw new Error(
      `--lock-dir: cannot use ${path}: ${errorMessage(error)}; choose a writable folder`,
    );
  }
  let locked: boolean;
  try {
    locked = await file.tryLock(true);
  } catch (error) {
    file.close();
    throw new Error(`--lock-dir: cannot lock ${path}: ${errorMessage(error)}`);
  }
  const record = parseRecord(await readAll(file));
  if (!locked) {
    file.close();
    return { acquired: false, path, holder: record };
  }
  const lock = new HostLock(file, path, record);
  await lock.write();
  return { acquired: true, lock };
}

/** The one-line message of a second start: who holds the node's lock. */
export function alreadyRunningMessage(
  nodeName: string,
  result: { path: string; holder?: HostLockRecord },
): string {
  const holder = result.holder === undefined
    ? "another process"
    : `pid ${result.holder.pid}, since ${result.holder.since}`;
  return `node ${nodeName} is already driven from this host (${holder}; lock ${result.path}): exiting`;
}
