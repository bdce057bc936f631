import type { PersistentVolumeClaim } from "kubernetes-types/core/v1.d.ts";
import type { StorageClass } from "kubernetes-types/storage/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import {
  formatBytes,
  providerParameters,
  provisionsHere,
  unsupportedModes,
} from "../../../lib/storage/volumes.ts";

const claim = (annotations: Record<string, string> = {}, modes = ["ReadWriteOnce"]) =>
  ({ metadata: { uid: "u1", annotations }, spec: { accessModes: modes } }) as PersistentVolumeClaim;
const klass = (mode: string, parameters: Record<string, string> = {}) =>
  ({
    metadata: { name: "c" },
    provisioner: "vkedge.io/mock",
    volumeBindingMode: mode,
    parameters,
  }) as StorageClass;

Deno.test("volumes: which node provisions a claim", () => {
  const wffc = klass("WaitForFirstConsumer");
  assertEquals(
    provisionsHere(claim({ "volume.kubernetes.io/selected-node": "n1" }), wffc, "n1", false),
    true,
  );
  assertEquals(
    provisionsHere(claim({ "volume.kubernetes.io/selected-node": "n2" }), wffc, "n1", false),
    false,
  );
  assertEquals(provisionsHere(claim(), wffc, "n1", true), true, "a pod here uses it");
  assertEquals(provisionsHere(claim(), klass("Immediate", { node: "n1" }), "n1", false), true);
  assertEquals(provisionsHere(claim(), klass("Immediate"), "n1", false), false);
  assertEquals(providerParameters(klass("Immediate", { node: "n1", diskOffering: "d" })), {
    diskOffering: "d",
  });
});

Deno.test("volumes: a disk gives RWO and RWOP only; sizes read as quantities", () => {
  assertEquals(unsupportedModes(claim({}, ["ReadWriteOnce"])), []);
  assertEquals(unsupportedModes(claim({}, ["ReadWriteMany", "ReadOnlyMany"])), [
    "ReadWriteMany",
    "ReadOnlyMany",
  ]);
  assertEquals(formatBytes(20 * 1024 ** 3), "20Gi");
  assertEquals(formatBytes(512 * 1024 ** 2), "512Mi");
  assertEquals(formatBytes(1000), "1000");
});
