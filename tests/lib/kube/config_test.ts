import { assertEquals } from "../../_harness/assert.ts";
import { loadClientConfig } from "../../../lib/kube/mod.ts";
import { CA, kubeconfig, noEnv, withDir } from "./_config_fixtures.ts";

Deno.test("loadClientConfig falls back to in-cluster config when no kubeconfig exists", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, "sa-token");
    await Deno.writeTextFile(`${dir}/ca.crt`, CA);
    const env = noEnv({
      HOME: `${dir}/nohome`,
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "6443",
    });
    const config = await loadClientConfig({ serviceAccountDir: dir, env });
    assertEquals(config.source, "in-cluster");
    assertEquals(config.namespace, "default");

    await Deno.writeTextFile(`${dir}/config`, kubeconfig());
    const explicit = await loadClientConfig({ path: `${dir}/config`, serviceAccountDir: dir, env });
    assertEquals(explicit.source, `kubeconfig ${dir}/config, context admin@c1`);
  });
});
