/**
 * The hosts (hypervisors) the provider has seen: learnt from the capacity refresh and,
 * for VMs on hosts not known yet, with one query per VM refresh. Pod statuses take the
 * host IP from here and lifecycle lines the host name.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import type { Host, VmInstance } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { hosts, queryAll, uuidsPerQuery } from "./collections.ts";
import { isIn } from "./query.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** Hosts by uuid. */
export class KnownHosts {
  readonly #client: ZStackClient;
  readonly #byUuid = new Map<string, Host>();

  /** Hosts are queried with `client`. */
  constructor(client: ZStackClient) {
    this.#client = client;
  }

  /** Remembers `found` (newer answers replace older ones). */
  add(found: Iterable<Host>): void {
    for (const host of found) this.#byUuid.set(host.uuid, host);
  }

  /** The first host learnt, for the node's architecture. */
  first(): Host | undefined {
    return this.#byUuid.values().next().value;
  }

  /** How lifecycle lines name the host `vm` runs on: its name, IP or uuid. */
  nameOf(vm: VmInstance): string | undefined {
    return vm.hostUuid === undefined ? undefined : this.name(vm.hostUuid);
  }

  /** The name of host `uuid` as ZStack names it (else its IP, else the uuid). */
  name(uuid: string): string {
    const host = this.#byUuid.get(uuid);
    return host?.name || host?.managementIp || uuid;
  }

  /** Management IP of the host `vm` runs (or last ran) on, when known. */
  ipOf(vm: VmInstance): string | undefined {
    const uuid = vm.hostUuid ?? vm.lastHostUuid;
    return uuid === undefined ? undefined : this.#byUuid.get(uuid)?.managementIp;
  }

  /** Queries the hosts of `vms` not known yet (at most 100, best effort: failures are logged). */
  async learn(vms: VmInstance[], signal: AbortSignal): Promise<void> {
    const missing = [
      ...new Set(
        vms.map((vm) => vm.hostUuid ?? vm.lastHostUuid).filter((uuid): uuid is string =>
          uuid !== undefined && !this.#byUuid.has(uuid)
        ),
      ),
    ];
    if (missing.length === 0) return;
    try {
      this.add(
        await queryAll(this.#client, hosts, {
          conditions: [isIn("uuid", missing.slice(0, uuidsPerQuery))],
          signal,
        }),
      );
    } catch (error) {
      logger.debug("cannot read hosts {hosts}: {error}", {
        hosts: missing.join(","),
        error: errorMessage(error),
      });
    }
  }
}
