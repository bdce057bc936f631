import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../../_harness/assert.ts";
import {
  fitPodSpec,
  packPodSpec,
  podFromStoredSpec,
  type StoredPodSpec,
  unpackPodSpec,
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
} from "../../../lib/provider_kit/mod.ts";

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";
const identity = { namespace: "default", name: "web", uid: "vm-uid" };

function webPod(annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "default",
      name: "web",
      uid: "pod-uid",
      labels: { app: "web" },
      annotations,
    },
    spec: {
      containers: [{
        name: "main",
        image: "nginx:1.27",
        env: [{ name: "GREETING", value: "hello" }],
        resources: { requests: { cpu: "500m" } },
      }],
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }],
      activeDeadlineSeconds: 600,
    },
  };
}

function randomHex(length: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(length / 2)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
}

/** The lengths of the forms `fitPodSpec` tries for `pod` when none fits, in order. */
async function stages(pod: Pod): Promise<number[]> {
  const lengths: number[] = [];
  await fitPodSpec(pod, identity, {
    fits: (packed) => {
      lengths.push(packed.length);
      return false;
    },
  });
  return lengths;
}

Deno.test("a record that fits is packed whole and reads back equal", async () => {
  const pod = webPod({ [WORKLOAD_UID_ANNOTATION]: "vm-uid" });
  const fitted = await fitPodSpec(pod, identity, { fits: () => true });
  assert(fitted.fits);
  assertEquals(fitted.partial, false);
  assertEquals(await unpackPodSpec(fitted.packed), {
    v: 1,
    ...identity,
    podUid: "pod-uid",
    containers: pod.spec!.containers,
    labels: { app: "web" },
    annotations: { [WORKLOAD_UID_ANNOTATION]: "vm-uid" },
    tolerations: pod.spec!.tolerations,
    activeDeadlineSeconds: 600,
  });
});

Deno.test("packing is base64 of gzip and the same record packs to the same text", async () => {
  const spec: StoredPodSpec = { v: 1, ...identity, containers: [{ name: "a", image: "b" }] };
  const packed = await packPodSpec(spec);
  assertEquals(atob(packed).slice(0, 2), "\x1f\x8b");
  assertEquals(await packPodSpec(spec), packed);
  assertEquals(await unpackPodSpec(packed), spec);
});

Deno.test("a pod too large first loses last-applied-configuration only and is partial", async () => {
  const pod = webPod({ [lastApplied]: randomHex(4000), keep: "me" });
  const [whole] = await stages(pod);
  const fitted = await fitPodSpec(pod, identity, { fits: (packed) => packed.length < whole });
  assert(fitted.fits);
  assertEquals(fitted.partial, true);
  const stored = await unpackPodSpec(fitted.packed);
  assertEquals(stored?.partial, true);
  assertEquals(stored?.annotations, { keep: "me" });
  assertEquals(stored?.containers, pod.spec!.containers);
  assertEquals(stored?.tolerations, pod.spec!.tolerations);
});

Deno.test("a pod still too large keeps only container names and images and the workload annotations", async () => {
  const pod = webPod({
    [lastApplied]: randomHex(4000),
    [WORKLOAD_UID_ANNOTATION]: "vm-uid",
    [WORKLOAD_NAME_ANNOTATION]: "vm",
    other: randomHex(4000),
  });
  const [, reduced] = await stages(pod);
  const fitted = await fitPodSpec(pod, identity, { fits: (packed) => packed.length < reduced });
  assert(fitted.fits);
  assertEquals(fitted.partial, true);
  assertEquals(await unpackPodSpec(fitted.packed), {
    v: 1,
    ...identity,
    podUid: "pod-uid",
    containers: [{ name: "main", image: "nginx:1.27" }],
    annotations: { [WORKLOAD_UID_ANNOTATION]: "vm-uid", [WORKLOAD_NAME_ANNOTATION]: "vm" },
    partial: true,
  });
});

Deno.test("a pod too large even when minimal is refused with the smallest form", async () => {
  const pod = webPod({ [lastApplied]: randomHex(4000) });
  const lengths = await stages(pod);
  assertEquals(lengths.length, 3);
  assert(lengths[0] > lengths[1] && lengths[1] > lengths[2], lengths.join(" > "));
  const fitted = await fitPodSpec(pod, identity, { fits: () => false });
  assert(!fitted.fits);
  assertEquals(fitted.smallest.length, lengths[2]);
  assertEquals((await unpackPodSpec(fitted.smallest))?.containers, [
    { name: "main", image: "nginx:1.27" },
  ]);
});

Deno.test("damaged text reads as no record", async () => {
  const gzipJson = async (value: unknown) => {
    const stream = new Blob([JSON.stringify(value)]).stream().pipeThrough(
      new CompressionStream("gzip"),
    );
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  };
  const whole = await packPodSpec({ v: 1, ...identity, containers: [] });
  for (
    const damaged of [
      "",
      "!!! not base64",
      btoa("not gzip"),
      whole.slice(0, whole.length / 2),
      await gzipJson({ v: 2, containers: [] }),
      await gzipJson({ v: 1 }),
      await gzipJson(null),
    ]
  ) {
    assertEquals(await unpackPodSpec(damaged), undefined, damaged);
  }
});

Deno.test("the rebuilt pod takes the record of the same workload, else one container vm", async () => {
  const pod = webPod({ [WORKLOAD_UID_ANNOTATION]: "vm-uid" });
  const fitted = await fitPodSpec(pod, identity, { fits: () => true });
  assert(fitted.fits);
  const stored = await unpackPodSpec(fitted.packed);
  const rebuilt = podFromStoredSpec({ identity, stored, nodeName: "node-1", image: "img" });
  assertEquals(rebuilt.metadata, pod.metadata);
  assertEquals(rebuilt.spec, { ...pod.spec!, nodeName: "node-1" });
  const other = podFromStoredSpec({
    identity: { ...identity, uid: "another" },
    stored,
    nodeName: "node-1",
    image: "img",
  });
  assertEquals(other.metadata, { namespace: "default", name: "web", uid: "another" });
  assertEquals(other.spec, { nodeName: "node-1", containers: [{ name: "vm", image: "img" }] });
});

Deno.test("without the workload annotation the rebuilt pod's UID is the workload UID", () => {
  const stored: StoredPodSpec = { v: 1, ...identity, podUid: "pod-uid", containers: [] };
  const rebuilt = podFromStoredSpec({ identity, stored, nodeName: "node-1", image: "img" });
  assertEquals(rebuilt.metadata?.uid, "vm-uid");
});
