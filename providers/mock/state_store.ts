/**
 * The mock's state file as the provider keeps it: read once at start-up into the pods,
 * their VMs and the volumes, then written after each change, a failed write surfacing as
 * `UnavailableError`. Without a configured state file every save resolves at once.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import type { PodRecord, PodRecords } from "./pod_records.ts";
import { readState, StateFileWriter } from "./state_file.ts";
import type { MockVolumes } from "./volumes.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What the state file restores and saves. */
export interface MockStateRestoreOptions {
  /** The pods. */
  pods: PodRecords;
  /** The volumes. */
  volumes: MockVolumes;
  /** Takes up a restored pod where the previous agent process left it (its VM, its runs). */
  resume: (record: PodRecord) => void;
}

/** The state file of the mock, if one is configured. */
export class MockStateStore {
  readonly #path: string | undefined;
  #writer: StateFileWriter | undefined;

  /** Keeps the state in the file at `path`; `undefined` keeps it in memory only. */
  constructor(path: string | undefined) {
    this.#path = path;
  }

  /** Restores the saved pods and volumes, then saves every later change. */
  restore(options: MockStateRestoreOptions): void {
    const path = this.#path;
    if (path === undefined) return;
    const { pods, volumes } = options;
    const saved = readState(path);
    for (const pod of saved.pods) options.resume(pods.restore(pod, path));
    volumes.restore(saved.volumes, saved.volumeOperations);
    const savedVolumes = () => ({
      volumes: volumes.saved(),
      volumeOperations: volumes.operations(),
    });
    this.#writer = new StateFileWriter(path, {
      pod: (key) => pods.savedPod(key),
      volumes: savedVolumes,
      all: () => ({ pods: pods.saved(), ...savedVolumes() }),
    });
    if (pods.size > 0) logger.info("restored {count} pods from {path}", { count: pods.size, path });
  }

  /** Resolves once `write` has saved its change to the state file (at once without one). */
  async save(write: (file: StateFileWriter) => Promise<void>): Promise<void> {
    if (this.#writer === undefined) return;
    try {
      await write(this.#writer);
    } catch (error) {
      throw new UnavailableError(
        `mock provider: cannot write the state file ${this.#path}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}
