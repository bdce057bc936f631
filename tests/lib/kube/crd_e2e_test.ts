/** A CustomResourceDefinition created through the client, then CRUD on its custom resources. */

import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.d.ts";
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { kubectl } from "../../_harness/cluster.ts";
import {
  CUSTOM_RESOURCE_DEFINITIONS,
  customResource,
  KubeApiError,
  KubeInvalidError,
  KubeNotFoundError,
} from "../../../lib/kube/mod.ts";
import { eventually, withNamespace } from "./_e2e.ts";

interface Widget {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { size?: number; color?: string };
  status?: { phase?: string };
}

function widgetCrd(group: string): CustomResourceDefinition {
  return {
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: {
                  size: { type: "integer", minimum: 1 },
                  color: { type: "string" },
                },
              },
              status: { type: "object", properties: { phase: { type: "string" } } },
            },
          },
        },
      }],
    },
  };
}

Deno.test("a CRD created with the client serves custom resources by group/version/plural", async () => {
  await withNamespace("kube-crd", async (client, ns) => {
    const group = `${ns}.e2e.vkedge.io`;
    const crds = client.resource<CustomResourceDefinition>(CUSTOM_RESOURCE_DEFINITIONS);
    await crds.create(widgetCrd(group));
    try {
      await eventually("the CRD to be Established", async () => {
        const crd = await crds.get(`widgets.${group}`);
        return crd.status?.conditions?.some((c) =>
          c.type === "Established" && c.status === "True"
        ) ??
          false;
      });
      const widgets = client.resource<Widget>(
        customResource(group, "v1", { plural: "widgets", namespaced: true, kind: "Widget" }),
        ns,
      );
      // Discovery of a fresh CRD can lag behind Established for a moment.
      await eventually("the widgets endpoint to serve", async () => {
        try {
          await widgets.list();
          return true;
        } catch (error) {
          if (error instanceof KubeNotFoundError) return false;
          throw error;
        }
      });

      const created = await widgets.create({
        metadata: { name: "w1" },
        spec: { size: 2, color: "red" },
      });
      assertEquals(created.apiVersion, `${group}/v1`);
      assertEquals(created.kind, "Widget");
      assertEquals((await widgets.get("w1")).spec, { size: 2, color: "red" });

      const patched = await widgets.patch("w1", { spec: { size: 3 } });
      assertEquals(patched.spec, { size: 3, color: "red" });

      const statusOnly = await widgets.patchStatus("w1", { status: { phase: "Ready" } });
      assertEquals(statusOnly.status?.phase, "Ready");
      const ignoredStatus = await widgets.update({ ...statusOnly, status: { phase: "Ignored" } });
      assertEquals(ignoredStatus.status?.phase, "Ready");
      const updated = await widgets.updateStatus({ ...ignoredStatus, status: { phase: "Done" } });
      assertEquals(updated.status?.phase, "Done");
      assertEquals(
        await kubectl([
          "get",
          `widgets.${group}`,
          "w1",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.phase}",
        ]),
        "Done",
      );

      await assertRejects(
        () => widgets.create({ metadata: { name: "w2" }, spec: { size: 0 } }),
        KubeInvalidError,
      );
      const unsupported = await assertRejects(
        () => widgets.patch("w1", { spec: { size: 4 } }, { type: "strategic" }),
        KubeApiError,
      );
      assertEquals(unsupported.httpCode, 415);

      assertEquals((await widgets.list()).items.map((w) => w.metadata?.name), ["w1"]);
      const deleted = await widgets.delete("w1") as Status;
      assertEquals(deleted.status, "Success");
      await assertRejects(() => widgets.get("w1"), KubeNotFoundError);
    } finally {
      await crds.delete(`widgets.${group}`);
    }
  });
});
