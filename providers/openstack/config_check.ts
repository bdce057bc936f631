/**
 * The start-up check of what the openstack configuration names: the compute
 * microversion, the default networks and the default flavor.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { InvalidInputError, isInvalidInput } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { NO_NETWORK } from "./pod_to_server.ts";
import type { NameResolver } from "./resolver.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/**
 * Checks once (at most 20 s) that the configuration names what exists. One that names
 * nothing is refused as `InvalidInputError`; a cloud that does not answer, or refuses the
 * credentials, is only logged: the names are checked again on use.
 */
export async function verifyOpenStackConfig(
  config: OpenStackConfig,
  options: { client: OpenStackClient; resolver: NameResolver; signal: AbortSignal },
): Promise<void> {
  const { client, resolver } = options;
  const bounded = AbortSignal.any([options.signal, AbortSignal.timeout(20_000)]);
  try {
    await client.computeVersion(bounded);
    const networks = config.networks.default;
    if (!(networks.length === 1 && networks[0] === NO_NETWORK)) {
      for (const ref of networks) await resolver.network(ref, bounded);
    }
    const flavor = config.flavors.default;
    if (flavor !== undefined) {
      const flavors = await resolver.flavors(bounded);
      if (!flavors.some((candidate) => candidate.name === flavor || candidate.id === flavor)) {
        throw new InvalidInputError(
          `openstack provider config: flavors.default: flavor "${flavor}" not found: expected one of ${
            flavors.map((candidate) => candidate.name).join(", ")
          }`,
        );
      }
    }
  } catch (error) {
    if (isInvalidInput(error)) throw error;
    logger.warn("cannot check the configuration at start-up: {error}; checked again on use", {
      error: errorMessage(error),
    });
  }
}
