/**
 * The node's capacity from the project's quota (`GET /limits`: instances, cores, RAM, and
 * what the project uses of them), bounded by Placement's inventories of the compute hosts
 * when the credentials may read them (by default an admin's). Allocatable is what is free
 * (in the quota, and on the hosts) plus what this node's own servers use: they are the
 * node's pods, which the scheduler already counts. A refresh loop reads it again every
 * `capacityRefreshSeconds` and says when it changed.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { abortableSleep, canonicalJson, errorMessage } from "../../lib/provider_kit/mod.ts";
import {
  type AbsoluteLimits,
  inventoriesSchema,
  limitsSchema,
  resourceProviderListSchema,
  type Server,
  usagesSchema,
} from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** `status.capacity` and `status.allocatable` of the node. */
export interface NodeResources {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
}

/** CPU (vCPUs) and memory (MiB) in total and free. */
export interface HostTotals {
  vcpus: number;
  ramMiB: number;
  freeVcpus: number;
  freeRamMiB: number;
}

/** Options of {@linkcode NodeCapacity}. */
export interface NodeCapacityOptions {
  client: OpenStackClient;
  /** The node's `pods` capacity (bounded by the instance quota). */
  maxPods: number;
  /** The servers of this node now (deleted ones left out by the caller). */
  ownServers: () => Server[];
}

/** What a server of this node uses: its flavor (2.47+ embeds it). */
function usageOf(server: Server): { vcpus: number; ramMiB: number } {
  return { vcpus: server.flavor?.vcpus ?? 0, ramMiB: server.flavor?.ram ?? 0 };
}

/** Capacity and allocatable from a quota, host totals and this node's usage; pure. */
export function computeResources(options: {
  limits: AbsoluteLimits | undefined;
  hosts: HostTotals | undefined;
  own: { servers: number; vcpus: number; ramMiB: number };
  maxPods: number;
}): NodeResources {
  const { limits, hosts, own } = options;
  const unlimited = (value: number | undefined) => value === undefined || value < 0;
  const bound = (quota: number | undefined, host: number | undefined) => {
    const values = [unlimited(quota) ? undefined : quota, host].filter((v): v is number =>
      v !== undefined
    );
    return values.length === 0 ? undefined : Math.min(...values);
  };
  const cpu = bound(limits?.maxTotalCores, hosts?.vcpus) ?? 0;
  const ram = bound(limits?.maxTotalRAMSize, hosts?.ramMiB) ?? 0;
  const pods = Math.min(
    options.maxPods,
    unlimited(limits?.maxTotalInstances) ? Infinity : limits!.maxTotalInstances,
  );
  const freeQuota = (limit: number | undefined, used: number, mine: number) =>
    unlimited(limit) ? undefined : Math.max(0, limit! - used + mine);
  const freeCpu = bound(
    freeQuota(limits?.maxTotalCores, limits?.totalCoresUsed ?? 0, own.vcpus),
    hosts === undefined ? undefined : hosts.freeVcpus + own.vcpus,
  ) ?? 0;
  const freeRam = bound(
    freeQuota(limits?.maxTotalRAMSize, limits?.totalRAMUsed ?? 0, own.ramMiB),
    hosts === undefined ? undefined : hosts.freeRamMiB + own.ramMiB,
  ) ?? 0;
  const freePods = Math.min(
    pods,
    freeQuota(limits?.maxTotalInstances, limits?.totalInstancesUsed ?? 0, own.servers) ?? Infinity,
  );
  const kibibytes = (mebibytes: number) => `${Math.max(0, Math.floor(mebibytes)) * 1024}Ki`;
  return {
    capacity: {
      cpu: String(Math.max(0, Math.floor(cpu))),
      memory: kibibytes(ram),
      pods: String(Math.max(0, pods)),
    },
    allocatable: {
      cpu: String(Math.max(0, Math.floor(Math.min(cpu, freeCpu)))),
      memory: kibibytes(Math.min(ram, freeRam)),
      pods: String(Math.max(0, Math.min(pods, freePods))),
    },
  };
}

/** Capacity and allocatable of the node, from Nova's limits and Placement. */
export class NodeCapacity {
  readonly #options: NodeCapacityOptions;
  #limits: AbsoluteLimits | undefined;
  #hosts: HostTotals | undefined;
  #placementForbidden = false;

  /** Creates it with no capacity known (zero CPU and memory) until the first refresh. */
  constructor(options: NodeCapacityOptions) {
    this.#options = options;
  }

  /** Reads the quota and, when allowed, Placement's inventories and usages. */
  async refresh(signal: AbortSignal): Promise<void> {
    const { client } = this.#options;
    try {
      this.#limits = (await client.request("compute", "GET", "/limits", {
        schema: limitsSchema,
        signal,
      })).value.limits.absolute;
    } catch (error) {
      throw toProviderError(error, "openstack provider: reading the project's limits");
    }
    if (!this.#placementForbidden) {
      try {
        this.#hosts = await this.#placement(signal);
      } catch (error) {
        if (error instanceof OpenStackHttpError && (error.status === 403 || error.status === 401)) {
          this.#placementForbidden = true;
          this.#hosts = undefined;
          logger.info(
            "the credentials may not read Placement ({error}): capacity is the quota alone",
            {
              error: error.message,
            },
          );
        } else {
          logger.warn("reading Placement failed: {error}; keeping the last host totals", {
            error: errorMessage(error),
          });
        }
      }
    }
  }

  async #placement(signal: AbortSignal): Promise<HostTotals> {
    const { client } = this.#options;
    const providers = (await client.request("placement", "GET", "/resource_providers", {
      schema: resourceProviderListSchema,
      signal,
    })).value.resource_providers;
    const totals: HostTotals = { vcpus: 0, ramMiB: 0, freeVcpus: 0, freeRamMiB: 0 };
    for (const provider of providers) {
      const [inventories, usages] = await Promise.all([
        client.request("placement", "GET", `/resource_providers/${provider.uuid}/inventories`, {
          schema: inventoriesSchema,
          signal,
        }),
        client.request("placement", "GET", `/resource_providers/${provider.uuid}/usages`, {
          schema: usagesSchema,
          signal,
        }),
      ]);
      const usable = (name: string) => {
        const inventory = inventories.value.inventories[name];
        return inventory === undefined
          ? 0
          : (inventory.total - inventory.reserved) * inventory.allocation_ratio;
      };
      const vcpus = usable("VCPU");
      const ram = usable("MEMORY_MB");
      totals.vcpus += vcpus;
      totals.ramMiB += ram;
      totals.freeVcpus += Math.max(0, vcpus - (usages.value.usages.VCPU ?? 0));
      totals.freeRamMiB += Math.max(0, ram - (usages.value.usages.MEMORY_MB ?? 0));
    }
    return totals;
  }

  /** Capacity and allocatable now. */
  resources(): NodeResources {
    const own = { servers: 0, vcpus: 0, ramMiB: 0 };
    for (const server of this.#options.ownServers()) {
      const usage = usageOf(server);
      own.servers++;
      own.vcpus += usage.vcpus;
      own.ramMiB += usage.ramMiB;
    }
    if (this.#limits === undefined) {
      const none = { cpu: "0", memory: "0", pods: String(this.#options.maxPods) };
      return { capacity: none, allocatable: { ...none } };
    }
    return computeResources({
      limits: this.#limits,
      hosts: this.#hosts,
      own,
      maxPods: this.#options.maxPods,
    });
  }

  /** Refreshes every `intervalMs` until `signal` aborts; `onChange` gets new resources. */
  async watch(options: {
    intervalMs: number;
    onChange: (resources: NodeResources) => void;
    signal: AbortSignal;
  }): Promise<void> {
    const { signal } = options;
    let last = canonicalJson(this.resources());
    while (!signal.aborted) {
      await abortableSleep(options.intervalMs, signal);
      if (signal.aborted) return;
      try {
        await this.refresh(signal);
      } catch (error) {
        if (signal.aborted) return;
        logger.warn("refreshing the OpenStack capacity failed: {error}", {
          error: errorMessage(error),
        });
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
