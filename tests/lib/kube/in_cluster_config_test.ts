import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { KubeConfigError, loadInClusterConfig } from "../../../lib/kube/mod.ts";
import { CA, noEnv, withDir } from "./_config_fixtures.ts";

Deno.test("loadInClusterConfig reads the ServiceAccount files and the service environment", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, "sa-token");
    await Deno.writeTextFile(`${dir}/ca.crt`, CA);
    await Deno.writeTextFile(`${dir}/namespace`, "kube-edge\n");
    const env = noEnv({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" });
    const config = await loadInClusterConfig({ serviceAccountDir: dir, env });
    assertEquals(config, {
      server: "https://10.0.0.1:443",
      namespace: "kube-edge",
      caPem: CA,
      tokenFile: `${dir}/token`,
      source: "in-cluster",
    });
    const v6 = await loadInClusterConfig({
      serviceAccountDir: dir,
      env: noEnv({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }),
    });
    assertEquals(v6.server, "https://[fd00::1]:443");

    await assertRejects(
      () => loadInClusterConfig({ serviceAccountDir: dir, env: noEnv() }),
      KubeConfigError,
      "KUBERNETES_SERVICE_HOST: expected KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT to be set in a pod, found no host and no port",
    );
    await assertRejects(
      () => loadInClusterConfig({ serviceAccountDir: `${dir}/none`, env }),
      KubeConfigError,
      `serviceaccount token: cannot read ${dir}/none/token: No such file`,
    );
  });
});
