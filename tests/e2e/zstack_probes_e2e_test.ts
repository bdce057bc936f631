/**
 * Probes of a ZStack VM-Pod dial the VM's IP from the agent: the test makes that IP real
 * in a network namespace (root only) with an HTTP server whose status it flips, so a
 * readiness probe keeps the pod not Ready until the server answers 200; when the server
 * goes away a tcpSocket liveness probe fails and the container is restarted the way a VM
 * can be, by a reboot (restartCount 1, Killing event).
 */

import { parse, stringify } from "yaml";
import { assertEquals } from "../_harness/assert.ts";
import { repoRoot, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, waitForEvent } from "../_harness/pods.ts";
import { vmPod, withZStackNode } from "../_harness/zstack.ts";
import { serveIn, vmNetwork } from "../_harness/vm_network.ts";

const isRoot = Deno.uid() === 0;

Deno.test({
  name: "zstack probes dial the VM's IP: readiness follows its HTTP status, a dead port reboots it",
  ignore: !isRoot,
  async fn() {
    const n = 1 + Math.floor(Math.random() * 250);
    const tag = `p${n.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    const hostIp = `10.215.${n}.1`;
    const vmIp = `10.215.${n}.2`;
    const port = 8000 + Math.floor(Math.random() * 1000);
    const seed = parse(await Deno.readTextFile(`${repoRoot}/tests/zstack_sim/seed.yaml`));
    seed.l3Networks[0].dns = [hostIp];
    seed.l3Networks[0].ipRanges = [{
      startIp: vmIp,
      endIp: vmIp,
      netmask: "255.255.255.252",
      gateway: hostIp,
    }];
    const dir = await Deno.makeTempDir({ prefix: "vkedge-zs-probe-" });
    const seedFile = `${dir}/seed.yaml`;
    const statusFile = `${dir}/status`;
    await Deno.writeTextFile(seedFile, stringify(seed));
    await Deno.writeTextFile(statusFile, "503");
    const network = await vmNetwork(tag, hostIp, vmIp);
    let server = await serveIn(network.netns, "http_status_server.ts", [
      vmIp,
      String(port),
      statusFile,
    ]);
    try {
      await withZStackNode("zs-probe", async (node) => {
        await node.start();
        await apply(
          node.ns,
          vmPod("web", node.nodeName, {
            container: {
              ports: [{ containerPort: port }],
              readinessProbe: { httpGet: { path: "/ready", port }, periodSeconds: 1 },
              livenessProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 2 },
            },
          }),
        );
        await waitFor("Running with the VM's IP", async () => {
          const pod = await getPod(node.ns, "web");
          return pod.status?.phase === "Running" && pod.status.podIP === vmIp;
        }, { timeoutMs: 60_000 });
        const unhealthy = await waitForEvent(node.ns, "web", "Unhealthy");
        assertEquals(
          unhealthy.message,
          "Readiness probe failed: HTTP probe failed with statuscode: 503",
        );
        assertEquals((await getPod(node.ns, "web")).status?.containerStatuses?.[0].ready, false);
        await Deno.writeTextFile(statusFile, "200");
        await waitFor(
          "Ready once the VM answers 200",
          async () =>
            (await getPod(node.ns, "web")).status?.conditions?.some((c) =>
              c.type === "Ready" && c.status === "True"
            ) === true,
          { timeoutMs: 30_000 },
        );

        await server.stop();
        await waitFor(
          "restartCount 1 (a reboot)",
          async () =>
            ((await getPod(node.ns, "web")).status?.containerStatuses?.[0].restartCount ?? 0) >=
              1,
          { timeoutMs: 60_000 },
        );
        const killing = await waitForEvent(node.ns, "web", "Killing");
        assertEquals(killing.message, "Container vm failed liveness probe, will be restarted");
        server = await serveIn(network.netns, "http_status_server.ts", [
          vmIp,
          String(port),
          statusFile,
        ]);
        await waitFor(
          "Ready again after the reboot",
          async () =>
            (await getPod(node.ns, "web")).status?.conditions?.some((c) =>
              c.type === "Ready" && c.status === "True"
            ) === true,
          { timeoutMs: 60_000 },
        );
      }, { sim: { seed: seedFile } });
    } finally {
      await server.stop();
      await network.remove();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
