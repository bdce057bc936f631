/**
 * Installing the VM lifecycle CRDs (`--install-crds`): a server-side apply of each
 * definition under the field manager `vkedge`, then a wait until the API server serves
 * them (condition `Established`), so the controllers' first list does not fail. The YAML
 * form of the same objects is what `deploy/crds/` holds.
 *
 * @module
 */

import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.d.ts";
import { stringify } from "yaml";
import { CUSTOM_RESOURCE_DEFINITIONS, type KubeClient } from "../kube/mod.ts";
import { abortableSleep } from "../sleep.ts";
import { VM_CRDS } from "./crds.ts";

/** Options of {@linkcode installCrds}. */
export interface InstallCrdsOptions {
  /** How long to wait for the definitions to be served (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Applies every VM lifecycle CRD and waits until each is established. */
export async function installCrds(
  client: KubeClient,
  options: InstallCrdsOptions = {},
): Promise<void> {
  const crds = client.resource<CustomResourceDefinition>(CUSTOM_RESOURCE_DEFINITIONS);
  for (const crd of VM_CRDS) {
    await crds.apply(crd, {
      fieldManager: "vkedge",
      force: true,
      signal: options.signal,
    });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const crd of VM_CRDS) {
    const name = crd.metadata!.name!;
    while (true) {
      const current = await crds.get(name, { signal: options.signal });
      const established = current.status?.conditions?.some((condition) =>
        condition.type === "Established" && condition.status === "True"
      );
      if (established) break;
      if (Date.now() > deadline) {
        throw new Error(
          `CRD ${name}: applied, but the API server did not establish it within ${
            options.timeoutMs ?? 30_000
          } ms; see its status with 'kubectl get crd ${name} -o yaml'`,
        );
      }
      await abortableSleep(200, options.signal);
    }
  }
}

/** The file name and YAML text of each CRD, as `deploy/crds/` holds them. */
export function crdManifests(): { file: string; text: string }[] {
  return VM_CRDS.map((crd) => ({
    file: `${crd.spec.names.singular}.yaml`,
    text: `# Generated from lib/vm/crds.ts by 'deno task crds'; edit that file, not this one.\n${
      stringify(crd, { lineWidth: 0 })
    }`,
  }));
}
