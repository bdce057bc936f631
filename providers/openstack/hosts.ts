/**
 * The compute hosts of the cloud, as far as the credentials may see them: Nova's
 * hypervisors (admin only by default policy), their host names (the names servers report
 * in `OS-EXT-SRV-ATTR:host` and live migration takes) and IPs, read at most once a minute.
 * Credentials that may not list them get none, once, and are not asked again.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Hypervisor, hypervisorListSchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** How long a list of hypervisors is reused. */
const freshMs = 60_000;

/** One compute host. */
export interface ComputeHost {
  /** The service host name. */
  name: string;
  /** The hypervisor's host IP, when Nova reports it. */
  ip?: string;
  /** `up` or `down`. */
  state?: string;
  /** `enabled` or `disabled`. */
  status?: string;
  /** The hypervisor's id (a uuid since 2.53), for placement. */
  id: string;
}

function hostFrom(hypervisor: Hypervisor): ComputeHost {
  const ip = (hypervisor as Record<string, unknown>).host_ip;
  return {
    name: hypervisor.service?.host ?? hypervisor.hypervisor_hostname,
    ...(typeof ip === "string" && ip !== "" ? { ip } : {}),
    ...(hypervisor.state ? { state: hypervisor.state } : {}),
    ...(hypervisor.status ? { status: hypervisor.status } : {}),
    id: String(hypervisor.id),
  };
}

/** The compute hosts, by name. */
export class KnownHosts {
  readonly #client: OpenStackClient;
  readonly #now: () => number;
  #hosts = new Map<string, ComputeHost>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  #forbidden = false;

  /** Creates an empty directory. */
  constructor(client: OpenStackClient, now: () => number) {
    this.#client = client;
    this.#now = now;
  }

  /** Whether the credentials may list hypervisors (unknown: true until a 403 said no). */
  get visible(): boolean {
    return !this.#forbidden;
  }

  /** The hosts known now. */
  all(): ComputeHost[] {
    return [...this.#hosts.values()];
  }

  /** The host named `name`, if known. */
  get(name: string | undefined): ComputeHost | undefined {
    return name === undefined ? undefined : this.#hosts.get(name);
  }

  /** Reads the hypervisors unless they were read within a minute (or may not be). */
  async refresh(signal: AbortSignal, options: { force?: boolean } = {}): Promise<void> {
    if (this.#forbidden) return;
    if (!options.force && this.#now() - this.#readAt < freshMs) return;
    this.#reading ??= this.#read(signal).finally(() => this.#reading = undefined);
    await this.#reading;
  }

  async #read(signal: AbortSignal): Promise<void> {
    try {
      const reply = await this.#client.request("compute", "GET", "/os-hypervisors/detail", {
        schema: hypervisorListSchema,
        signal,
      });
      this.#hosts = new Map(reply.value.hypervisors.map((h) => [hostFrom(h).name, hostFrom(h)]));
      this.#readAt = this.#now();
    } catch (error) {
      if (error instanceof OpenStackHttpError && error.status === 403) {
        this.#forbidden = true;
        logger.info(
          "the credentials may not list Nova's hypervisors ({error}): host names, host IPs and migration targets are unknown",
          { error: error.message },
        );
        return;
      }
      throw toProviderError(error, "openstack provider: listing hypervisors");
    }
  }
}
