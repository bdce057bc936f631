/**
 * Writes the VM lifecycle CRDs of lib/vm/crds.ts to deploy/crds/ (`deno task crds`).
 *
 * @module
 */

import { crdManifests } from "../lib/vm/crd_install.ts";

const folder = new URL("../deploy/crds/", import.meta.url);
for (const { file, text } of crdManifests()) {
  await Deno.writeTextFile(new URL(file, folder), text);
  console.log(`wrote deploy/crds/${file}`);
}
