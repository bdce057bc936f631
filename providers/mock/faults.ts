/**
 * Fault injection of the mock provider: `setHealthy(false)` makes `ping` fail, and the
 * fault file (when configured) makes `ping`, `create`, `update` or `delete` fail for as long
 * as it names them, and the VM actions too (`power`: start, stop and restart; `snapshot`:
 * create, restore and delete a snapshot; `migrate`) and the volume actions (`volume`:
 * create, delete, expand, attach and detach), so that tests and demos can break a running
 * agent's backend at will.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** Faults the fault file can inject. */
export type MockFault =
  | "ping"
  | "create"
  | "update"
  | "delete"
  | "power"
  | "snapshot"
  | "migrate"
  | "volume";

const knownFaults: readonly MockFault[] = [
  "ping",
  "create",
  "update",
  "delete",
  "power",
  "snapshot",
  "migrate",
  "volume",
];

/** The health switch and the fault file of one provider. */
export class Faults {
  readonly #faultFile: string | undefined;
  #healthy = true;

  /** Faults read from `faultFile`, or none without one. */
  constructor(faultFile: string | undefined) {
    this.#faultFile = faultFile;
  }

  /** Marks the backend healthy or not; while unhealthy `checkPing` throws `UnavailableError`. */
  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  /**
   * Reads the fault file and returns the faults it names now (words separated by blanks or
   * commas, in any case); a missing file names none.
   */
  async activeFaults(): Promise<Set<MockFault>> {
    const faults = new Set<MockFault>();
    if (this.#faultFile === undefined) return faults;
    let text: string;
    try {
      text = await Deno.readTextFile(this.#faultFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        logger.warn("cannot read fault file {path}: {error}", {
          path: this.#faultFile,
          error: errorMessage(error),
        });
      }
      return faults;
    }
    for (const word of text.toLowerCase().split(/[\s,]+/)) {
      const fault = knownFaults.find((known) => known === word);
      if (fault !== undefined) faults.add(fault);
    }
    return faults;
  }

  /** Throws `UnavailableError` when the fault file names `fault`; `what` says what failed. */
  async failIfInjected(fault: MockFault, what: string): Promise<void> {
    if ((await this.activeFaults()).has(fault)) {
      throw new UnavailableError(
        `mock provider: fault injected by ${this.#faultFile}: ${what} fails while the file contains "${fault}"`,
      );
    }
  }

  /** Throws `UnavailableError` while marked unhealthy or while the fault file names `ping`. */
  async checkPing(): Promise<void> {
    if (!this.#healthy) {
      throw new UnavailableError("mock provider: marked unhealthy by setHealthy(false)");
    }
    await this.failIfInjected("ping", "ping");
  }
}
