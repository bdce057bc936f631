// The kubernetes provider's configuration: defaults, the namespace prefix, and refusals that
// name the field.

import { InvalidInputError } from "../../../lib/provider.ts";
import { parseKubernetesConfig } from "../../../providers/kubernetes/config.ts";
import { lowerNamespace } from "../../../providers/kubernetes/namespaces.ts";
import { assertEquals, assertThrows } from "../../_harness/assert.ts";

Deno.test("config: defaults, and the namespace prefix from the cluster name", () => {
  const config = parseKubernetesConfig({ clusterName: "Central_1", kubeconfig: "/k" });
  assertEquals(config.namespaces, { prefix: "central-1-", suffix: "" });
  assertEquals([config.qps, config.burst, config.requestTimeoutSeconds], [20, 40, 30]);
  assertEquals(config.upperTaintKeys, ["virtual-kubelet.io/provider"]);
  assertEquals(lowerNamespace(config.namespaces, "shop"), "central-1-shop");
  const same = parseKubernetesConfig({
    clusterName: "c",
    inCluster: true,
    namespaces: { prefix: "", suffix: "" },
  });
  assertEquals(lowerNamespace(same.namespaces, "shop"), "shop");
});

Deno.test("config: refusals name the field and what was expected", () => {
  const refused = (raw: unknown) =>
    assertThrows(() => parseKubernetesConfig(raw), InvalidInputError).message;
  assertEquals(
    refused(undefined),
    "kubernetes provider config: expected a file given with --provider-config (clusterName and kubeconfig), found none",
  );
  assertEquals(
    refused({ clusterName: "c" }),
    `kubernetes provider config: field "kubeconfig": expected the lower cluster's kubeconfig file (or inCluster: true), found neither`,
  );
  assertEquals(
    refused({ clusterName: "c", kubeconfig: "/k", inCluster: true }),
    `kubernetes provider config: field "kubeconfig": expected either kubeconfig or inCluster: true, found both`,
  );
  assertEquals(
    refused({ clusterName: "c", kubeconfig: "/k", reserve: { cpu: "lots" } }),
    `kubernetes provider config: field "reserve.cpu": expected a Kubernetes quantity such as "500m" or "1Gi", found "lots"`,
  );
  assertEquals(
    refused({ clusterName: "c", kubeconfig: "/k", namespaces: { prefix: "UP_" } }),
    `kubernetes provider config: field "namespaces.prefix": expected at most 40 lower-case letters, digits or '-', found "UP_"`,
  );
  assertEquals(
    refused({ clusterName: "c", kubeconfig: "/k", qsp: 5 }),
    `kubernetes provider config: field "(top level)": Unrecognized key: "qsp"`,
  );
});

Deno.test("config: an upper namespace that maps to no namespace name is refused with the fix", () => {
  const config = parseKubernetesConfig({ clusterName: "c", kubeconfig: "/k" });
  const error = assertThrows(
    () => lowerNamespace(config.namespaces, "x".repeat(62)),
    InvalidInputError,
  );
  assertEquals(error.message.includes("shorten the configured namespaces.prefix or suffix"), true);
});
