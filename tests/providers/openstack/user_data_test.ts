import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import {
  buildUserData,
  podUserDataOf,
  userDataAnnotation,
} from "../../../providers/openstack/user_data.ts";

function pod(annotations: Record<string, string>): Pod {
  return {
    metadata: { namespace: "default", name: "web", annotations },
    spec: { containers: [{ name: "main", image: "ubuntu" }] },
  };
}

Deno.test("openstack user data reads openstack.vkedge.io/user-data before the VM-Pod annotation", () => {
  assertEquals(userDataAnnotation, "openstack.vkedge.io/user-data");
  const both = pod({ [userDataAnnotation]: "#!/bin/sh\n", "vkedge.io/user-data": "#!/bin/bash\n" });
  assertEquals(podUserDataOf(both), { annotation: userDataAnnotation, text: "#!/bin/sh\n" });
  const merged = parseYaml(
    buildUserData(pod({ [userDataAnnotation]: "#cloud-config\npackages: [nginx]\n" }), {
      name: "main",
      image: "ubuntu",
    }),
  ) as Record<string, unknown>;
  assertEquals(merged.packages, ["nginx"]);
  assertEquals(merged.hostname, "web");
});

Deno.test("openstack user data errors name the openstack provider, the pod and the annotation", () => {
  const bad = pod({ [userDataAnnotation]: "hello" });
  assertThrows(
    () => buildUserData(bad, bad.spec!.containers[0]),
    InvalidInputError,
    `openstack provider: pod default/web: annotation openstack.vkedge.io/user-data: expected "#cloud-config" YAML`,
  );
});
