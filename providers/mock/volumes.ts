/**
 * The mock provider's volumes (`VolumeProvisioner`): disks kept in memory (and in the
 * state file), each made for one `VolumeRequest.name` from one of the configured disk
 * offerings and ready `volumes.createDelayMs` after it was asked for, attached to at most
 * one VM at a time, grown but never shrunk, deleted only once detached. A create
 * repeated for a name finds its volume, also while it is still being created, and after
 * a restart too, since the state file records a volume as soon as it is asked for. The
 * counts of what was done let tests check that a claim made exactly one volume.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  InvalidInputError,
  NotFoundError,
  type ProvisionedVolume,
  ResourceExhaustedError,
  UnavailableError,
  type VolumeRequest,
} from "../../lib/provider.ts";
import { parseQuantity, sleep } from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import type { Faults } from "./faults.ts";
import {
  noVolumeOperations,
  type SavedVolume,
  type VolumeOperation,
  type VolumeOperationCounts,
} from "./state_file.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** The access modes a mock volume gives: like a disk, it is attached to one VM at a time. */
export const mockVolumeAccessModes: readonly string[] = ["ReadWriteOnce", "ReadWriteOncePod"];
/** The StorageClass parameters the mock reads. */
export const mockVolumeParameters: readonly string[] = ["diskOffering"];
/** Volume attribute naming the disk offering a volume was made from. */
export const mockDiskOfferingAttribute = "mock.vkedge.io/disk-offering";

/** Options of {@linkcode MockVolumes}. */
export interface MockVolumesOptions {
  /** How volumes behave. */
  config: MockConfig["volumes"];
  /** Clock in milliseconds. */
  now: () => number;
  /** The provider's lifetime: waits end with it. */
  stopped: AbortSignal;
  /** Fault injection (`volume`). */
  faults: Faults;
  /** The pod (`namespace/name`) whose VM has id `vmId`, if any. */
  podOfVm: (vmId: string) => string | undefined;
  /** Resolves once the volumes as they are now are saved. */
  changed: () => Promise<void>;
}

/** The volumes of one mock provider. */
export class MockVolumes {
  readonly #options: MockVolumesOptions;
  readonly #capacity: number;
  readonly #volumes = new Map<string, SavedVolume>();
  #operations: VolumeOperationCounts = noVolumeOperations();

  /** No volumes yet. */
  constructor(options: MockVolumesOptions) {
    this.#options = options;
    this.#capacity = parseQuantity(options.config.capacity);
  }

  /** Takes over the volumes and counts read from the state file. */
  restore(volumes: readonly SavedVolume[], operations: VolumeOperationCounts): void {
    for (const volume of volumes) this.#volumes.set(volume.id, structuredClone(volume));
    this.#operations = { ...operations };
  }

  /** The volumes as the state file keeps them. */
  saved(): SavedVolume[] {
    return [...this.#volumes.values()].map((volume) => structuredClone(volume));
  }

  /** How many times each action was carried out, across restarts with a state file. */
  operations(): VolumeOperationCounts {
    return { ...this.#operations };
  }

  /** The volume `id` as the contract has it, or `undefined`. */
  get(id: string): ProvisionedVolume | undefined {
    const volume = this.#volumes.get(id);
    return volume === undefined ? undefined : this.#provisioned(volume);
  }

  /** Every volume, in creation order. */
  all(): ProvisionedVolume[] {
    return [...this.#volumes.values()].map((volume) => this.#provisioned(volume));
  }

  /**
   * Creates the volume of `request` and resolves once it is ready; a volume of that name
   * is taken (and grown to the size asked for) instead. `InvalidInputError` for what a
   * disk cannot be, `ResourceExhaustedError` beyond the configured capacity.
   */
  async create(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume> {
    signal.throwIfAborted();
    const what = `mock provider: creating volume ${request.name} for claim ${request.claim}`;
    const diskOffering = this.#check(request, what);
    await this.#options.faults.failIfInjected("volume", what);
    let volume = [...this.#volumes.values()].find((known) => known.name === request.name);
    if (volume === undefined) {
      this.#checkRoom(request.sizeBytes, what);
      const now = this.#options.now();
      volume = {
        id: crypto.randomUUID(),
        name: request.name,
        claim: request.claim,
        sizeBytes: request.sizeBytes,
        accessModes: [...request.accessModes],
        diskOffering,
        createdAt: now,
        readyAt: now + this.#options.config.createDelayMs,
      };
      this.#volumes.set(volume.id, volume);
      await this.#did("create", volume);
    }
    await this.#whenReady(volume, signal);
    if (volume.sizeBytes < request.sizeBytes) {
      await this.expand(volume.id, request.sizeBytes, signal);
    }
    return this.#provisioned(volume);
  }

  /** Deletes the detached volume `id`; `UnavailableError` while it is attached. */
  async delete(id: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const what = `mock provider: deleting volume ${id}`;
    await this.#options.faults.failIfInjected("volume", what);
    const volume = this.#find(id, what);
    if (volume.attachedVm !== undefined) {
      throw new UnavailableError(
        `${what}: it is attached to ${this.#describeVm(volume.attachedVm)}: detach it first`,
      );
    }
    this.#volumes.delete(id);
    await this.#did("delete", volume);
  }

  /** Grows the volume `id` to at least `sizeBytes`; resolves with its size. */
  async expand(id: string, sizeBytes: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const what = `mock provider: growing volume ${id} to ${sizeBytes} bytes`;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      throw new InvalidInputError(
        `${what}: expected a size of a positive whole number of bytes, found ${sizeBytes}`,
      );
    }
    await this.#options.faults.failIfInjected("volume", what);
    const volume = this.#find(id, what);
    if (volume.sizeBytes >= sizeBytes) return volume.sizeBytes;
    this.#checkRoom(sizeBytes - volume.sizeBytes, what);
    volume.sizeBytes = sizeBytes;
    await this.#did("expand", volume);
    return volume.sizeBytes;
  }

  /**
   * Attaches the volume `id` to VM `vmId` once it is ready; attached there already is
   * fine, attached to another VM an `UnavailableError` until it is detached there.
   */
  async attach(id: string, vmId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const what = `mock provider: attaching volume ${id} to ${this.#describeVm(vmId)}`;
    await this.#options.faults.failIfInjected("volume", what);
    const volume = this.#find(id, what);
    await this.#whenReady(volume, signal);
    if (volume.attachedVm === vmId) return;
    if (volume.attachedVm !== undefined) {
      throw new UnavailableError(
        `${what}: it is attached to ${
          this.#describeVm(volume.attachedVm)
        }, and a volume is attached to one VM at a time: detach it there first`,
      );
    }
    volume.attachedVm = vmId;
    await this.#did("attach", volume);
  }

  /** Detaches the volume `id` from VM `vmId` (none: nothing to detach); not attached there is fine. */
  async detach(id: string, vmId: string | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const what = `mock provider: detaching volume ${id}`;
    await this.#options.faults.failIfInjected("volume", what);
    const volume = this.#find(id, what);
    if (vmId === undefined || volume.attachedVm !== vmId) return;
    volume.attachedVm = undefined;
    await this.#did("detach", volume);
  }

  /** Detaches every volume from VM `vmId`, which is going away; the caller saves. */
  detachAll(vmId: string): void {
    for (const volume of this.#volumes.values()) {
      if (volume.attachedVm !== vmId) continue;
      volume.attachedVm = undefined;
      this.#operations.detach++;
      logger.debug("volume {name} detached from the deleted VM {vm} and kept", {
        name: volume.name,
        vm: vmId,
      });
    }
  }

  /** Checks what a disk can be, and returns the disk offering to use. */
  #check(request: VolumeRequest, what: string): string {
    if (request.name === "") throw new InvalidInputError(`${what}: expected a name, found ""`);
    if (!Number.isSafeInteger(request.sizeBytes) || request.sizeBytes <= 0) {
      throw new InvalidInputError(
        `${what}: expected a size of a positive whole number of bytes, found ${request.sizeBytes}`,
      );
    }
    const refused = request.accessModes.filter((mode) => !mockVolumeAccessModes.includes(mode));
    if (refused.length > 0) {
      throw new InvalidInputError(
        `${what}: expected access modes among ${mockVolumeAccessModes.join(", ")}, found ${
          refused.join(", ")
        }: a mock volume is a disk, attached to one VM at a time`,
      );
    }
    const unknown = Object.keys(request.parameters)
      .filter((key) => !mockVolumeParameters.includes(key)).sort();
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `${what}: StorageClass parameter${unknown.length > 1 ? "s" : ""} ${
          unknown.map((key) => `"${key}"`).join(", ")
        } unknown: expected only ${mockVolumeParameters.join(", ")}`,
      );
    }
    const offerings = this.#options.config.diskOfferings;
    const offering = request.parameters.diskOffering || offerings[0];
    if (!offerings.includes(offering)) {
      throw new InvalidInputError(
        `${what}: StorageClass parameter diskOffering: expected one of ${
          offerings.join(", ")
        }, found "${offering}"`,
      );
    }
    return offering;
  }

  /** `ResourceExhaustedError` unless `bytes` more fit in the configured capacity. */
  #checkRoom(bytes: number, what: string): void {
    let used = 0;
    for (const volume of this.#volumes.values()) used += volume.sizeBytes;
    if (used + bytes <= this.#capacity) return;
    throw new ResourceExhaustedError(
      `${what}: expected ${bytes} bytes free, found ${
        this.#capacity - used
      } of the ${this.#options.config.capacity} the mock's volumes may take`,
      { resource: "capacity" },
    );
  }

  #find(id: string, what: string): SavedVolume {
    const volume = this.#volumes.get(id);
    if (volume === undefined) {
      throw new NotFoundError(`${what}: the mock has no volume ${id}`);
    }
    return volume;
  }

  async #whenReady(volume: SavedVolume, signal: AbortSignal): Promise<void> {
    const wait = volume.readyAt - this.#options.now();
    if (wait > 0) await sleep(wait, AbortSignal.any([signal, this.#options.stopped]));
  }

  async #did(operation: VolumeOperation, volume: SavedVolume): Promise<void> {
    this.#operations[operation]++;
    logger.debug("volume {name} ({id}): {operation}", {
      name: volume.name,
      id: volume.id,
      operation,
    });
    await this.#options.changed();
  }

  #describeVm(vmId: string): string {
    const pod = this.#options.podOfVm(vmId);
    return `the VM ${vmId}${pod === undefined ? "" : ` of pod ${pod}`}`;
  }

  #provisioned(volume: SavedVolume): ProvisionedVolume {
    const pod = volume.attachedVm === undefined
      ? undefined
      : this.#options.podOfVm(volume.attachedVm);
    return {
      id: volume.id,
      name: volume.name,
      sizeBytes: volume.sizeBytes,
      attachedTo: pod === undefined ? [] : [pod],
      ready: this.#options.now() >= volume.readyAt,
      attributes: { [mockDiskOfferingAttribute]: volume.diskOffering },
    };
  }
}
