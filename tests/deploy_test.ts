/** The examples in deploy/ stay true to the code: their flags and configs parse. */

import { parse as parseYaml } from "yaml";
import { assertEquals } from "./_harness/assert.ts";
import { repoRoot } from "./_harness/cluster.ts";
import { parseCommandLine } from "../lib/config.ts";
import { parseMockConfig } from "../providers/mock/config.ts";
import { parseZStackConfig } from "../providers/zstack/config.ts";
import { parseVsphereConfig } from "../providers/vsphere/config.ts";
import { parseSwarmConfig } from "../providers/swarm/config.ts";
import { parseKubernetesConfig } from "../providers/kubernetes/config.ts";
import { parseOpenStackConfig } from "../providers/openstack/config.ts";
import { crdManifests } from "../lib/vm/crd_install.ts";

function flagsOf(commandLine: string): string[] {
  return commandLine.replaceAll("\\\n", " ").split(/\s+/).filter((word) => word.startsWith("--"));
}

Deno.test("deploy/mock-provider.yaml is a valid mock provider config", async () => {
  const config = parseMockConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/mock-provider.yaml`)),
  );
  assertEquals(config.capacity.pods, "110");
});

for (const file of ["vkedge.service", "vkedge.cron"]) {
  Deno.test(`the vkedge command line in deploy/${file} parses`, async () => {
    const text = await Deno.readTextFile(`${repoRoot}/deploy/${file}`);
    const line = file.endsWith(".service")
      ? text.slice(text.indexOf("ExecStart=")).split(/\n(?!\s)/)[0]
      : text.split("\n").find((l) => l.includes("/usr/local/bin/vkedge"))!;
    const flags = flagsOf(line.split(">>")[0]).filter((flag) => !flag.startsWith("--nodename=%"));
    const command = parseCommandLine(flags, {});
    assertEquals(command.kind, "run");
  });
}

Deno.test("deploy/zstack-provider.yaml is a valid zstack provider config", async () => {
  const config = parseZStackConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/zstack-provider.yaml`)),
  );
  assertEquals(typeof config.endpoint, "string");
});

Deno.test("deploy/vsphere-provider.yaml is a valid vsphere provider config", async () => {
  const config = parseVsphereConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/vsphere-provider.yaml`)),
  );
  assertEquals(config.endpoint, "https://vcenter.example/sdk");
  assertEquals(config.placement.cluster, "DC0_C0");
});

Deno.test("deploy/openstack-provider.yaml is a valid openstack provider config", async () => {
  const config = parseOpenStackConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/openstack-provider.yaml`)),
  );
  assertEquals(config.networks.default, ["private"]);
  assertEquals(config.images.aliases.cirros, "tiny");
});

Deno.test("deploy/swarm-provider.yaml is a valid swarm provider config", async () => {
  const config = parseSwarmConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/swarm-provider.yaml`)),
  );
  assertEquals([config.endpoint.text, config.clusterName], [
    "unix:///var/run/docker.sock",
    "edge-prod",
  ]);
});

Deno.test("deploy/kubernetes-provider.yaml is a valid kubernetes provider config", async () => {
  const config = parseKubernetesConfig(
    parseYaml(await Deno.readTextFile(`${repoRoot}/deploy/kubernetes-provider.yaml`)),
  );
  assertEquals(config.namespaces, { prefix: "central-", suffix: "" });
  assertEquals(config.kubeconfig, "/etc/vkedge/lower.kubeconfig");
});

Deno.test("deploy/crds/ holds exactly the CRDs of lib/vm/crds.ts ('deno task crds' writes them)", async () => {
  const expected = crdManifests();
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${repoRoot}/deploy/crds`)) files.push(entry.name);
  assertEquals(files.sort(), expected.map((m) => m.file).sort());
  for (const { file, text } of expected) {
    const onDisk = await Deno.readTextFile(`${repoRoot}/deploy/crds/${file}`);
    assertEquals(onDisk, text, `deploy/crds/${file} is stale: run 'deno task crds'`);
  }
});
