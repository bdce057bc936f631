import {
  decodePodSpec,
  encodePodSpec,
  maxMetadataValue,
  podFromServer,
  specKeyPrefix,
} from "../../../providers/openstack/stored_spec.ts";
import { assert, assertEquals } from "../../_harness/assert.ts";
import { pod } from "./_fixtures.ts";

const identity = { namespace: "default", name: "web", uid: "u-1" };

Deno.test("the spec is cut into metadata items of at most 255 characters and read back whole", async () => {
  const web = pod("web", { uid: "u-1" });
  web.metadata!.labels = { app: "web" };
  web.spec!.containers[0].env = [{ name: "GREETING", value: "x".repeat(2000) }];
  const { items, partial } = await encodePodSpec(web, identity);
  const keys = Object.keys(items);
  assert(keys.length > 1, `several items, found ${keys.length}`);
  assert(keys.every((key) => key.startsWith(specKeyPrefix)), keys.join(", "));
  assert(Object.values(items).every((value) => value.length <= maxMetadataValue));
  assertEquals(partial, false);
  const stored = await decodePodSpec({ ...items, "vkedge.io:pod": "web", other: "x" });
  assertEquals(stored?.containers, web.spec!.containers);
  assertEquals(stored?.labels, { app: "web" });
});

Deno.test("a pod too large drops last-applied, then everything but name, image and the workload", async () => {
  const huge = pod("web", { uid: "pod-uid" });
  huge.metadata!.annotations = {
    "kubectl.kubernetes.io/last-applied-configuration": crypto.randomUUID().repeat(2000),
    "vkedge.io/virtual-machine-uid": "u-1",
  };
  huge.spec!.containers[0].env = Array.from({ length: 3000 }, (_, i) => ({
    name: `V${i}`,
    value: crypto.randomUUID(),
  }));
  const { items, partial } = await encodePodSpec(huge, identity);
  assertEquals(partial, true);
  const stored = await decodePodSpec(items);
  assertEquals(stored?.containers, [{ name: "main", image: "openstack/tiny" }]);
  assertEquals(stored?.annotations, { "vkedge.io/virtual-machine-uid": "u-1" });
  assertEquals(stored?.podUid, "pod-uid");
});

Deno.test("damaged or missing items read as no spec; a rebuilt pod keeps the workload UID", async () => {
  assertEquals(await decodePodSpec({}), undefined);
  assertEquals(await decodePodSpec({ [`${specKeyPrefix}00`]: "not base64 gzip" }), undefined);
  const rebuilt = podFromServer({
    identity,
    stored: undefined,
    nodeName: "edge-1",
    image: "openstack/img",
  });
  assertEquals(rebuilt.metadata?.uid, "u-1");
  assertEquals(rebuilt.spec?.containers, [{ name: "vm", image: "openstack/img" }]);
});
