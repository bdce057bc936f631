// pods/log queries, and the requests refused before they leave.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import { checkLogRequest, logQuery } from "../../../providers/kubernetes/logs.ts";
import { assertEquals, assertThrows } from "../../_harness/assert.ts";

Deno.test("logs: every kubelet log option becomes its pods/log parameter", () => {
  assertEquals(
    logQuery("app", {
      tail: 5,
      follow: true,
      limitBytes: 100,
      timestamps: true,
      previous: true,
      sinceTime: new Date("2026-01-02T03:04:05.678Z"),
      sinceSeconds: 60,
    }),
    {
      container: "app",
      follow: true,
      tailLines: 5,
      limitBytes: 100,
      sinceSeconds: undefined,
      sinceTime: "2026-01-02T03:04:05Z",
      timestamps: true,
      previous: true,
    },
  );
  assertEquals(logQuery("app", { sinceSeconds: 60 }).sinceSeconds, 60);
  assertEquals(logQuery("app", {}).follow, undefined);
});

const lower: Pod = {
  metadata: { namespace: "c-shop", name: "web" },
  spec: { containers: [{ name: "app" }], initContainers: [{ name: "init" }] },
  status: {
    containerStatuses: [{
      name: "app",
      image: "",
      imageID: "",
      ready: true,
      restartCount: 0,
    }],
  },
};

Deno.test("logs: an unknown container is NotFoundError, previous without a restart InvalidInputError", () => {
  checkLogRequest(lower, "shop/web", "app", {});
  checkLogRequest(lower, "shop/web", "init", {});
  assertEquals(
    assertThrows(() => checkLogRequest(lower, "shop/web", "nope", {}), NotFoundError).message,
    'pod shop/web has no container "nope": expected one of app, init',
  );
  assertThrows(
    () => checkLogRequest(lower, "shop/web", "app", { previous: true }),
    InvalidInputError,
  );
  const restarted: Pod = {
    ...lower,
    status: { containerStatuses: [{ ...lower.status!.containerStatuses![0], restartCount: 1 }] },
  };
  checkLogRequest(restarted, "shop/web", "app", { previous: true });
});
