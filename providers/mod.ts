/**
 * Registry of providers: name → lazy import of the provider's module. The specifiers are
 * static strings so that `deno compile` and `deno bundle` include every provider while
 * only the chosen one is evaluated at start-up.
 *
 * @module
 */

import type { ProviderModule } from "../lib/provider.ts";

const registry: Record<string, () => Promise<{ default: ProviderModule }>> = {
  kubernetes: () => import("./kubernetes/mod.ts"),
  mock: () => import("./mock/mod.ts"),
  openstack: () => import("./openstack/mod.ts"),
  swarm: () => import("./swarm/mod.ts"),
  vsphere: () => import("./vsphere/mod.ts"),
  zstack: () => import("./zstack/mod.ts"),
};

/** Names accepted by `loadProvider`, sorted. */
export function knownProviders(): string[] {
  return Object.keys(registry).sort();
}

/** Imports the provider module registered as `name`; throws listing the known names otherwise. */
export async function loadProvider(name: string): Promise<ProviderModule> {
  const load = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (load === undefined) {
    throw new Error(
      `unknown provider "${name}": expected one of ${
        knownProviders().map((known) => `"${known}"`).join(", ")
      }`,
    );
  }
  const module = (await load()).default;
  if (module.name !== name) {
    throw new Error(
      `provider module registered as "${name}" names itself "${module.name}": expected the same name`,
    );
  }
  return module;
}
