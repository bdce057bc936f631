/** Every patch format against a real kube-apiserver, including server-side apply conflicts. */

import type { ConfigMap, Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { kubectlJson } from "../../_harness/cluster.ts";
import { CONFIG_MAPS, KubeConflictError, KubeInvalidError, PODS } from "../../../lib/kube/mod.ts";
import { withNamespace } from "./_e2e.ts";

Deno.test("merge patch changes and removes keys", async () => {
  await withNamespace("kube-merge", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    await cms.create({ metadata: { name: "m" }, data: { keep: "1", drop: "2", change: "3" } });
    const patched = await cms.patch("m", { data: { drop: null, change: "30", add: "4" } });
    assertEquals(patched.data, { keep: "1", change: "30", add: "4" });
    const viaKubectl = await kubectlJson<ConfigMap>(["get", "configmap", "m", "-n", ns]);
    assertEquals(viaKubectl.data, { keep: "1", change: "30", add: "4" });
  });
});

Deno.test("strategic merge patch merges the container list by name", async () => {
  await withNamespace("kube-smp", async (client, ns) => {
    const pods = client.resource<Pod>(PODS, ns);
    await pods.create({
      metadata: { name: "p" },
      spec: {
        containers: [
          { name: "app", image: "registry.example/app:1" },
          { name: "sidecar", image: "registry.example/sidecar:1" },
        ],
      },
    });
    const patched = await pods.patch("p", {
      spec: { containers: [{ name: "sidecar", image: "registry.example/sidecar:2" }] },
    }, { type: "strategic" });
    assertEquals(
      patched.spec?.containers.map((c) => `${c.name}=${c.image}`),
      ["app=registry.example/app:1", "sidecar=registry.example/sidecar:2"],
    );
    // The same body as a JSON merge patch would replace the whole list, which the API refuses.
    await assertRejects(
      () =>
        pods.patch("p", {
          spec: { containers: [{ name: "sidecar", image: "registry.example/sidecar:3" }] },
        }),
      KubeInvalidError,
    );
  });
});

Deno.test("JSON patch applies operations in order and a failed test op leaves the object alone", async () => {
  await withNamespace("kube-jsonpatch", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    await cms.create({ metadata: { name: "j", labels: { a: "1" } }, data: { x: "1" } });
    const patched = await cms.patch("j", [
      { op: "test", path: "/data/x", value: "1" },
      { op: "replace", path: "/data/x", value: "2" },
      { op: "add", path: "/metadata/labels/b", value: "2" },
      { op: "remove", path: "/metadata/labels/a" },
    ], { type: "json" });
    assertEquals(patched.data, { x: "2" });
    assertEquals(patched.metadata?.labels, { b: "2" });
    await assertRejects(
      () => cms.patch("j", [{ op: "test", path: "/data/x", value: "1" }], { type: "json" }),
      KubeInvalidError,
    );
    assertEquals((await cms.get("j")).data, { x: "2" });
  });
});

Deno.test("server-side apply records the field manager, conflicts without force and wins with force", async () => {
  await withNamespace("kube-ssa", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const applied = await cms.apply(
      { metadata: { name: "s" }, data: { owner: "first" } },
      { fieldManager: "first-manager" },
    );
    assertEquals(applied.data, { owner: "first" });
    assertEquals(
      applied.metadata?.managedFields?.some((f) =>
        f.manager === "first-manager" && f.operation === "Apply"
      ),
      true,
    );
    const conflict = await assertRejects(
      () =>
        cms.apply({ metadata: { name: "s" }, data: { owner: "second" } }, {
          fieldManager: "second-manager",
        }),
      KubeConflictError,
    );
    assertEquals(conflict.status.details?.causes?.[0].field, ".data.owner");
    assertEquals((await cms.get("s")).data, { owner: "first" });

    const forced = await cms.apply(
      { metadata: { name: "s" }, data: { owner: "second" } },
      { fieldManager: "second-manager", force: true },
    );
    assertEquals(forced.data, { owner: "second" });
    const managers = (await cms.get("s")).metadata?.managedFields?.map((f) => f.manager) ?? [];
    assertEquals(managers.includes("second-manager"), true);
  });
});
