/**
 * The node's capacity from the hosts of the configured placement: total CPU and memory
 * from ZStack's capacity API, and allocatable as what ZStack has free plus what this
 * node's own VMs use (they are the node's pods, which the scheduler already counts). A
 * refresh loop reads it again every `capacityRefreshSeconds` and says when it changed.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { abortableSleep, canonicalJson, errorMessage } from "../../lib/provider_kit/mod.ts";
import { type CpuMemoryCapacity, cpuMemoryCapacitySchema, type VmInstance } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { hosts, queryAll } from "./collections.ts";
import { toProviderError } from "./errors.ts";
import type { KnownHosts } from "./hosts.ts";
import type { NameResolver } from "./name_resolver.ts";
import { eq, listParameters, type QueryCondition } from "./query.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** `status.capacity` and `status.allocatable` of the node. */
export interface NodeResources {
  /** What the hosts have. */
  capacity: Record<string, string>;
  /** What pods of this node may use. */
  allocatable: Record<string, string>;
}

/** Options of {@linkcode NodeCapacity}. */
export interface NodeCapacityOptions {
  /** The ZStack client. */
  client: ZStackClient;
  /** Resolves the placement whose hosts count. */
  resolver: NameResolver;
  /** Where the hosts of the placement are remembered. */
  hosts: KnownHosts;
  /** The node's `pods` capacity. */
  maxPods: number;
  /** The VMs of this node now (those deleted or gone are left out by the caller). */
  ownVms: () => VmInstance[];
}

/** Options of {@linkcode NodeCapacity.watch}. */
export interface WatchCapacityOptions {
  /** Pause between two refreshes. */
  intervalMs: number;
  /** Called with the new resources whenever they changed. */
  onChange: (resources: NodeResources) => void;
  /** Ends the loop. */
  signal: AbortSignal;
}

/** States in which a VM holds host capacity (it has a host). */
function holdsCapacity(vm: VmInstance): boolean {
  return vm.hostUuid !== undefined && !["Stopped", "Destroyed", "Created"].includes(vm.state);
}

function kibibytes(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
}

/** Capacity and allocatable of the node, from ZStack. */
export class NodeCapacity {
  readonly #options: NodeCapacityOptions;
  #capacity: CpuMemoryCapacity | undefined;

  /** Creates it with no capacity known (zero CPU and memory) until the first refresh. */
  constructor(options: NodeCapacityOptions) {
    this.#options = options;
  }

  /** Reads the capacity of the placement's hosts, and remembers those hosts. */
  async refresh(signal: AbortSignal): Promise<void> {
    const { client, resolver } = this.#options;
    const placement = await resolver.placement(signal);
    const [key, uuid] = placement.host
      ? ["hostUuids", placement.host.uuid]
      : placement.cluster
      ? ["clusterUuids", placement.cluster.uuid]
      : ["zoneUuids", placement.zone.uuid];
    try {
      this.#capacity = await client.get("/v1/hosts/capacities/cpu-memory", {
        query: listParameters(key, [uuid]),
        schema: cpuMemoryCapacitySchema,
        signal,
      });
      const scope: QueryCondition = placement.host
        ? eq("uuid", placement.host.uuid)
        : placement.cluster
        ? eq("clusterUuid", placement.cluster.uuid)
        : eq("zoneUuid", placement.zone.uuid);
      this.#options.hosts.add(await queryAll(client, hosts, { conditions: [scope], signal }));
    } catch (error) {
      throw toProviderError(error, "zstack provider: reading host capacity");
    }
  }

  /** Capacity and allocatable now: allocatable adds back what this node's own VMs use. */
  resources(): NodeResources {
    const pods = String(this.#options.maxPods);
    const capacity = this.#capacity;
    if (capacity === undefined) {
      const none = { cpu: "0", memory: "0", pods };
      return { capacity: none, allocatable: { ...none } };
    }
    let ownCpu = 0;
    let ownMemory = 0;
    for (const vm of this.#options.ownVms()) {
      if (!holdsCapacity(vm)) continue;
      ownCpu += vm.cpuNum ?? 0;
      ownMemory += vm.memorySize ?? 0;
    }
    return {
      capacity: {
        cpu: String(Math.max(0, Math.floor(capacity.totalCpu))),
        memory: kibibytes(capacity.totalMemory),
        pods,
      },
      allocatable: {
        cpu: String(
          Math.max(0, Math.floor(Math.min(capacity.totalCpu, capacity.availableCpu + ownCpu))),
        ),
        memory: kibibytes(Math.min(capacity.totalMemory, capacity.availableMemory + ownMemory)),
        pods,
      },
    };
  }

  /**
   * Refreshes every `intervalMs` until the signal aborts and calls `onChange` when the
   * resources differ from the last ones; a failed refresh is logged and tried again.
   */
  async watch(options: WatchCapacityOptions): Promise<void> {
    const { signal } = options;
    let last = canonicalJson(this.resources());
    while (!signal.aborted) {
      await abortableSleep(options.intervalMs, signal);
      if (signal.aborted) return;
      try {
        await this.refresh(signal);
      } catch (error) {
        if (signal.aborted) return;
        logger.warn("refreshing ZStack capacity failed: {error}", { error: errorMessage(error) });
        continue;
      }
      const resources = this.resources();
      const now = canonicalJson(resources);
      if (now === last) continue;
      last = now;
      options.onChange(resources);
    }
  }
}
