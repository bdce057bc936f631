/**
 * Which openstack provider start-up builds: {@linkcode MigratingOpenStackProvider}, the
 * provider with VM migration (live or cold), unless the configuration turns migration off
 * or, with `migration: auto`, the cloud's policy keeps the credentials from seeing the
 * hypervisors; then the plain {@linkcode OpenStackProvider}.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { ProviderRuntimeOptions, VirtualMachineMigration } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import { anyReplySchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { OpenStackHttpError } from "./errors.ts";
import { nodeTag } from "./identity.ts";
import { OpenStackProvider, type OpenStackProviderOptions } from "./openstack_provider.ts";
import { migrate, type MigrationKind, migrationTargets } from "./server_migration.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** The openstack provider with VM migration (live or cold, as configured). */
export class MigratingOpenStackProvider extends OpenStackProvider
  implements VirtualMachineMigration {
  readonly #kind: MigrationKind;

  /** Creates the provider; `kind` is how servers move. */
  constructor(
    config: OpenStackConfig,
    client: OpenStackClient,
    options: OpenStackProviderOptions & { kind: MigrationKind },
  ) {
    super(config, client, options);
    this.#kind = options.kind;
  }

  /** Migrates the server and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await migrate(this.actions, await this.serverOf(pod, signal), {
      ...options,
      kind: this.#kind,
      signal,
    });
  }

  /** Names the compute hosts the server could move to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.actions, await this.serverOf(pod, signal), { signal });
  }
}

/**
 * Whether the credentials may migrate servers, as far as the cloud tells at start-up:
 * live migration needs them to see the hypervisors, which by default only an admin may.
 * A cloud that does not answer is given the benefit of the doubt.
 */
async function mayMigrate(client: OpenStackClient, signal: AbortSignal): Promise<boolean> {
  try {
    await client.request("compute", "GET", "/os-hypervisors", {
      query: { limit: "1" },
      schema: anyReplySchema,
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
    return true;
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 403) return false;
    logger.warn(
      "cannot ask OpenStack whether these credentials may migrate: {error}; assuming they may",
      {
        error: errorMessage(error),
      },
    );
    return true;
  }
}

/**
 * Builds the provider for `config`: with migration (live or cold) unless `migration: off`,
 * or `auto` and the cloud's policy does not let the credentials see the hypervisors (then
 * a VirtualMachineMigration fails at once saying the provider cannot migrate).
 */
export async function createOpenStackProvider(
  config: OpenStackConfig,
  client: OpenStackClient,
  options: ProviderRuntimeOptions & { signal: AbortSignal },
): Promise<OpenStackProvider> {
  const tag = await nodeTag({ clusterName: config.clusterName, nodeName: options.nodeName });
  const base = { ...options, nodeTag: tag };
  let kind: MigrationKind | undefined = config.migration === "cold" ? "cold" : "live";
  if (config.migration === "off") kind = undefined;
  if (config.migration === "auto" && !(await mayMigrate(client, options.signal))) {
    logger.warn(
      "the cloud's policy does not let these credentials see Nova's hypervisors: VM migration is off (admin credentials, or migration: live, turn it on)",
    );
    kind = undefined;
  }
  const provider = kind === undefined
    ? new OpenStackProvider(config, client, base)
    : new MigratingOpenStackProvider(config, client, { ...base, kind });
  await provider.verifyConfig(options.signal);
  return provider;
}
