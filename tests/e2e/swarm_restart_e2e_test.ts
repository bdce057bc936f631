/**
 * The swarm provider across a kill -9 of the agent: the new agent adopts the services it
 * finds by their node label and recreates, updates and restarts nothing (same services,
 * same tasks, no restart counted), and a pod deleted while it was down has its services
 * removed once it is back.
 */

import { assert, assertEquals } from "../_harness/assert.ts";
import { kubectl, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, waitRunning } from "../_harness/pods.ts";
import { swarmPod, withSwarmNode } from "../_harness/swarm_node.ts";

Deno.test("swarm: kill -9 and restart of the agent recreates nothing; a pod deleted meanwhile loses its services", async () => {
  await withSwarmNode("swarm-restart", async (node) => {
    const { ns, nodeName } = node;
    const agent = await node.start();
    const names = ["one", "two", "three"];
    for (const name of names) {
      const pod = swarmPod(name, nodeName, "echo up; exec sleep 3600");
      pod.spec!.containers[0].env = [{ name: "WHO", value: name }];
      await apply(ns, pod);
    }
    for (const name of names) await waitRunning(ns, name, 60_000);
    const services = await node.services();
    const tasks = await node.tasks();
    assertEquals(services.size, 3);

    await agent.kill();
    await kubectl(["delete", "pod", "three", "-n", ns, "--wait=false"]);
    await node.start();
    await waitFor(
      "the deleted pod's service removed",
      async () => (await node.services()).size === 2,
      {
        timeoutMs: 60_000,
      },
    );
    // Give the new agent time to act on everything it found.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const after = await node.services();
    for (const [name, id] of after) assertEquals(services.get(name), id, `service ${name} kept`);
    const tasksAfter = await node.tasks();
    for (const [id, state] of tasksAfter) {
      assert(tasks.has(id) || state !== "running", `no new running task (${id} ${state})`);
    }
    for (const name of ["one", "two"]) {
      const pod = await getPod(ns, name);
      assertEquals(pod.status?.phase, "Running");
      assertEquals(pod.status?.containerStatuses?.[0].restartCount, 0);
    }
    const log = await node.agent!.output(); // the second agent's log
    assert(!log.includes("services created"), "the restarted agent created no service");
    assert(!log.includes('updated "vk-'), "the restarted agent updated no service");
  });
});
