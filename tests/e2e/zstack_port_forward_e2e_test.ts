/**
 * `kubectl port-forward` to a ZStack VM-Pod: the agent dials the VM's IP. The test makes
 * the VM's IP real: a network namespace of its own at the far end of a veth pair holds it
 * (10.214.N.2/30, the simulator's only address for VMs), with an echo server bound to it;
 * the agent, in the host namespace, reaches it through the pair. `kubectl exec` to the same
 * pod says that a VM has no exec channel and to SSH to its IP.
 */

import { parse, stringify } from "yaml";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { repoRoot } from "../_harness/cluster.ts";
import { apply, waitRunning } from "../_harness/pods.ts";
import {
  echoRoundTrip,
  kubectlRun,
  patternBytes,
  startPortForward,
} from "../_harness/streaming.ts";
import { vmPod, withZStackNode } from "../_harness/zstack.ts";
import { serveIn, vmNetwork } from "../_harness/vm_network.ts";

const isRoot = Deno.uid() === 0;

Deno.test({
  name:
    "zstack port-forward: kubectl reaches a listener on the VM's IP (in a network namespace); exec says to use SSH",
  ignore: !isRoot,
  async fn() {
    const n = 1 + Math.floor(Math.random() * 250);
    const tag = `${n.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    const hostIp = `10.214.${n}.1`;
    const vmIp = `10.214.${n}.2`;
    const port = 8000 + Math.floor(Math.random() * 1000);
    const seed = parse(await Deno.readTextFile(`${repoRoot}/tests/zstack_sim/seed.yaml`));
    seed.l3Networks[0].dns = [hostIp];
    seed.l3Networks[0].ipRanges = [{
      startIp: vmIp,
      endIp: vmIp,
      netmask: "255.255.255.252",
      gateway: hostIp,
    }];
    const seedFile = await Deno.makeTempFile({ prefix: "vkedge-pf-seed-", suffix: ".yaml" });
    await Deno.writeTextFile(seedFile, stringify(seed));
    const network = await vmNetwork(tag, hostIp, vmIp);
    const server = await serveIn(network.netns, "echo_server.ts", [vmIp, String(port)]);
    try {
      await withZStackNode("zs-pf", async (node) => {
        await node.start();
        await apply(
          node.ns,
          vmPod("web", node.nodeName, {
            container: { ports: [{ containerPort: port }] },
          }),
        );
        const pod = await waitRunning(node.ns, "web");
        assertEquals(pod.status?.podIP, vmIp);

        const forward = await startPortForward(node.ns, "web", [port]);
        try {
          const trips = await Promise.all(
            [0, 1, 2, 3].map((index) =>
              echoRoundTrip(forward.localPorts[0], patternBytes(1024 * 1024, index))
            ),
          );
          for (const trip of trips) assert(trip.exact, `${trip.received} of ${trip.sent} bytes`);
        } finally {
          await forward.stop();
        }

        const exec = await kubectlRun(["exec", "-n", node.ns, "web", "--", "echo", "hi"]);
        assertEquals(exec.code, 1);
        assertStringIncludes(
          exec.stderr,
          `runs as a ZStack VM, which has no exec channel (no container runtime inside): SSH to the VM's IP instead (ssh <user>@${vmIp})`,
        );
      }, { sim: { seed: seedFile } });
    } finally {
      await server.stop();
      await network.remove();
      await Deno.remove(seedFile).catch(() => {});
    }
  },
});
