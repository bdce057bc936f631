/**
 * The VM lifecycle CRDs as the API server enforces them: `kubectl apply -f deploy/crds/`
 * installs them, and specs no agent could act on are refused at the door with a message
 * that names the field and what it should be.
 */

import { assert, assertStringIncludes } from "../_harness/assert.ts";
import { freshNamespace, kubectl, kubectlResult, repoRoot } from "../_harness/cluster.ts";

async function applyFails(ns: string, object: unknown): Promise<string> {
  const result = await kubectlResult(["apply", "-n", ns, "-f", "-"], {
    stdin: JSON.stringify(object),
  });
  assert(result.code !== 0, `expected a refusal for ${JSON.stringify(object)}`);
  return result.stderr;
}

const vm = (spec: Record<string, unknown>) => ({
  apiVersion: "vkedge.io/v1alpha1",
  kind: "VirtualMachine",
  metadata: { name: "bad" },
  spec,
});

Deno.test("VM CRDs: kubectl apply -f deploy/crds/ installs them; invalid specs are refused with readable messages", async () => {
  await kubectl(["apply", "-f", `${repoRoot}/deploy/crds/`]);
  await kubectl(["wait", "--for=condition=Established", "crd/virtualmachines.vkedge.io"]);
  const ns = await freshNamespace("vm-crd");
  try {
    const resources = await kubectl(["api-resources", "--api-group=vkedge.io"]);
    for (const shortName of ["vm", "vmsnapshot", "vmrestore", "vmmigration"]) {
      assertStringIncludes(resources, shortName);
    }
    let message = await applyFails(ns, vm({ cpu: 0, memory: "lots", runStrategy: "Sometimes" }));
    assertStringIncludes(message, "spec.image: Required value");
    assertStringIncludes(message, "spec.cpu");
    assertStringIncludes(message, "greater than or equal to 1");
    assertStringIncludes(message, "spec.memory");
    assertStringIncludes(message, 'Unsupported value: "Sometimes"');
    assertStringIncludes(message, '"Always", "Halted", "Manual", "RerunOnFailure", "Once"');

    message = await applyFails(
      ns,
      vm({ image: "x", action: { id: "1", type: "Start", force: true } }),
    );
    assertStringIncludes(message, "action.force applies to Stop and Restart only");

    message = await applyFails(ns, vm({ image: "x", action: { type: "Restart" } }));
    assertStringIncludes(message, "spec.action.id: Required value");

    message = await applyFails(ns, {
      apiVersion: "vkedge.io/v1alpha1",
      kind: "VirtualMachineSnapshot",
      metadata: { name: "s" },
      spec: { virtualMachineName: "Not_A_Name", failureDeadline: "soon" },
    });
    assertStringIncludes(message, "spec.virtualMachineName");
    assertStringIncludes(message, "spec.failureDeadline");

    const restore = {
      apiVersion: "vkedge.io/v1alpha1",
      kind: "VirtualMachineRestore",
      metadata: { name: "r" },
      spec: { virtualMachineName: "a", virtualMachineSnapshotName: "s1" },
    };
    await kubectl(["apply", "-n", ns, "-f", "-"], { stdin: JSON.stringify(restore) });
    message = await applyFails(ns, {
      ...restore,
      spec: { ...restore.spec, virtualMachineSnapshotName: "s2" },
    });
    assertStringIncludes(message, "a VirtualMachineRestore is immutable: create a new one");
  } finally {
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  }
});
