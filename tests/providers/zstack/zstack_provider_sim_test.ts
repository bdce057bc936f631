/**
 * The zstack provider against the ZStack REST simulator: pods become VMs, statuses come
 * back by polling, deletion destroys and expunges, a new provider instance adopts its VMs
 * by tags, and ZStack errors reach the agent as contract errors.
 */

import type { NodeSystemInfo } from "kubernetes-types/core/v1.d.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { podsEqual } from "../../../lib/pods/compare.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../../lib/provider.ts";
import {
  emptyReplySchema,
  imageSchema,
  l3NetworkSchema,
  queryReplySchema,
} from "../../../providers/zstack/api_types.ts";
import { ZStackClient } from "../../../providers/zstack/client.ts";
import zstackModule from "../../../providers/zstack/mod.ts";
import { buildQueryString, eq } from "../../../providers/zstack/query.ts";
import {
  eventually,
  nodeName,
  podOf,
  providerFor,
  signal,
  vmsNamed,
  withSimulator,
} from "./_sim_harness.ts";

Deno.test("a pod becomes a Running VM and its status says Running and Ready with the VM's IP", async () => {
  await withSimulator(async (sim) => {
    const { provider, client, stop, updates } = providerFor(sim);
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      const running = await eventually(
        "Running status",
        () =>
          updates.find((update) =>
            update.metadata?.name === "web" && update.status?.phase === "Running"
          ),
      );
      const creating = updates.findIndex((update) =>
        update.status?.phase === "Pending" &&
        update.status.containerStatuses?.[0].state?.waiting?.reason === "ContainerCreating"
      );
      assert(creating >= 0 && creating < updates.indexOf(running), "Pending before Running");
      assertMatch(running.status?.podIP ?? "", /^192\.168\.100\.\d+$/);
      assertMatch(running.status?.hostIP ?? "", /^172\.20\.0\.1[12]$/);
      assertEquals(running.status?.containerStatuses?.[0].ready, true);
      assertEquals(running.metadata?.uid, pod.metadata?.uid);
      const [vm] = await vmsNamed(client, "vkedge-default.web");
      assertEquals(vm.uuid, pod.metadata!.uid!.replaceAll("-", ""));
      assertEquals([vm.cpuNum, vm.memorySize], [2, 2 * 2 ** 30]);
      const logs = await new Response(
        await provider.getContainerLogs(
          { namespace: "default", pod: "web", container: "main" },
          {},
          signal,
        ),
      ).text();
      assertStringIncludes(logs, "create requested: image ubuntu-22.04");
      assertMatch(logs, /VM vkedge-default\.web \([0-9a-f]{32}\) Starting on host host-[12]/);
      assertMatch(
        logs,
        /\[vkedge\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ VM vkedge-default\.web \([0-9a-f]{32}\) Running on host host-[12], IP 192\.168\.100\.\d+/,
      );
    } finally {
      stop.abort();
    }
  }, { vmBootMs: 300 });
});

Deno.test("deleting the pod destroys and expunges its VM and reports it Succeeded", async () => {
  await withSimulator(async (sim) => {
    const { provider, client, stop, updates } = providerFor(sim);
    try {
      const pod = podOf("gone");
      await provider.createPod(pod, signal);
      await provider.deletePod(pod, signal);
      const last = await eventually(
        "terminal status",
        () => updates.find((update) => update.status?.phase === "Succeeded"),
      );
      assertEquals(
        last.status?.containerStatuses?.[0].state?.terminated?.reason,
        "VMDestroyed",
      );
      assertEquals(await vmsNamed(client, "vkedge-default.gone"), []);
      assertEquals(await provider.getPod("default", "gone", signal), undefined);
      await assertRejects(() => provider.deletePod(pod, signal), NotFoundError);
    } finally {
      stop.abort();
    }
  });
});

Deno.test("after a restart the new provider adopts its VMs by tags and getPod equals the desired pod", async () => {
  await withSimulator(async (sim) => {
    const first = providerFor(sim);
    const desired = podOf("keep", {
      tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists" }],
    });
    const other = podOf("elsewhere");
    const neighbour = providerFor(sim, { node: "edge-2" });
    try {
      await first.provider.createPod(desired, signal);
      await neighbour.provider.createPod(other, signal);
    } finally {
      first.stop.abort();
      neighbour.stop.abort();
    }
    // A VM with a pod's name but none of the tags is not adopted.
    const stranger = new ZStackClient({
      endpoint: sim.url,
      credentials: { kind: "account", accountName: "admin", password: "password" },
    });
    const [image] = (await stranger.get("/v1/images", {
      query: buildQueryString({ conditions: [eq("name", "cirros")] }),
      schema: queryReplySchema(imageSchema),
      signal,
    })).inventories;
    const [l3] = (await stranger.get("/v1/l3-networks", {
      query: buildQueryString({ conditions: [eq("name", "l3-default")] }),
      schema: queryReplySchema(l3NetworkSchema),
      signal,
    })).inventories;
    await stranger.call("POST", "/v1/vm-instances", {
      body: {
        params: {
          name: "vkedge-default.impostor",
          imageUuid: image.uuid,
          l3NetworkUuids: [l3.uuid],
          cpuNum: 1,
          memorySize: 2 ** 30,
        },
      },
      schema: emptyReplySchema,
      signal,
    });

    const second = providerFor(sim);
    try {
      const pods = await second.provider.getPods(signal);
      assertEquals(pods.map((pod) => pod.metadata?.name), ["keep"]);
      const adopted = await second.provider.getPod("default", "keep", signal);
      assert(adopted !== undefined);
      assertEquals(adopted.metadata?.uid, desired.metadata?.uid);
      assert(podsEqual(adopted, desired), "the agent would update an unchanged pod");
      assertEquals(adopted.status?.phase, "Running");
      const logs = await new Response(
        await second.provider.getContainerLogs(
          { namespace: "default", pod: "keep", container: "main" },
          {},
          signal,
        ),
      ).text();
      assertStringIncludes(logs, "found by vkedge; earlier history is not known");
    } finally {
      second.stop.abort();
    }
  });
});

Deno.test("bad image, unknown L3 and two containers are InvalidInputError, too big a VM is retryable ResourceExhaustedError; no VM made", async () => {
  await withSimulator(async (sim) => {
    const { provider, client, stop } = providerFor(sim);
    try {
      const badImage = podOf("bad-image");
      badImage.spec!.containers[0].image = "zstack/windows-95";
      const image = await assertRejects(
        () => provider.createPod(badImage, signal),
        InvalidInputError,
      );
      assertStringIncludes(image.message, `expected one image named "windows-95", found 0`);
      const badL3 = podOf("bad-l3");
      badL3.metadata!.annotations = { "zstack.vkedge.io/l3-networks": "nowhere" };
      const l3 = await assertRejects(() => provider.createPod(badL3, signal), InvalidInputError);
      assertStringIncludes(l3.message, `expected one L3 network named "nowhere", found 0`);
      const huge = podOf("huge");
      huge.spec!.containers[0].resources = { limits: { cpu: "64", memory: "1Ti" } };
      const tooBig = await assertRejects(
        () => provider.createPod(huge, signal),
        ResourceExhaustedError,
      );
      assertEquals([tooBig.resource, tooBig.retryable], ["capacity", true]);
      const twin = podOf("twin");
      twin.spec!.containers.push({ name: "sidecar", image: "zstack/cirros" });
      await assertRejects(
        () => provider.createPod(twin, signal),
        InvalidInputError,
        "expected exactly one container",
      );
      for (const name of ["bad-image", "bad-l3", "huge", "twin"]) {
        assertEquals((await vmsNamed(client, `vkedge-default.${name}`)).length, 0, name);
      }
    } finally {
      stop.abort();
    }
  });
});

Deno.test("session expiry mid-run is transparent: the provider logs in again", async () => {
  await withSimulator(async (sim) => {
    const { provider, client, stop } = providerFor(sim);
    try {
      await provider.createPod(podOf("one"), signal);
      sim.faults.expireSessions();
      await provider.createPod(podOf("two"), signal);
      sim.faults.expireSessions();
      const pods = await eventually("both pods", async () => {
        const listed = await provider.getPods(signal);
        return listed.length === 2 ? listed : undefined;
      });
      assertEquals(pods.map((pod) => pod.metadata?.name).sort(), ["one", "two"]);
      await provider.ping(signal);
      assertEquals(pods.every((pod) => pod.status?.phase === "Running"), true);
      assert(client.stats().logins >= 3, `expected re-logins, found ${client.stats().logins}`);
    } finally {
      stop.abort();
    }
  });
});

Deno.test("a create interrupted mid-job and repeated makes one VM, not two", async () => {
  await withSimulator(async (sim) => {
    const { provider, client, stop } = providerFor(sim);
    try {
      const pod = podOf("once");
      const interrupted = new AbortController();
      const first = provider.createPod(pod, interrupted.signal);
      setTimeout(() => interrupted.abort(new Error("agent crashed")), 100);
      await first.catch(() => {});
      await provider.createPod(pod, signal);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assertEquals((await vmsNamed(client, "vkedge-default.once")).length, 1);
    } finally {
      stop.abort();
    }
  }, { jobDurationMs: 300 });
});

Deno.test("status polling makes one VM query per interval however many pods", async () => {
  await withSimulator(async (sim) => {
    const { provider, stop } = providerFor(sim);
    try {
      for (const name of ["a", "b", "c", "d"]) await provider.createPod(podOf(name), signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = sim.stats().apis["QueryVmInstance"] ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const queries = (sim.stats().apis["QueryVmInstance"] ?? 0) - before;
      // 50 ms interval over 500 ms: about 10 queries, never one per pod per interval.
      assert(queries >= 3 && queries <= 12, `expected about 10 queries, found ${queries}`);
    } finally {
      stop.abort();
    }
  });
});

Deno.test("node capacity comes from the placement's hosts; ping names the endpoint when down", async () => {
  await withSimulator(async (sim) => {
    const { provider, stop } = providerFor(sim);
    try {
      // The agent's node carries addresses and the kubelet version; they stay as they are.
      const node = await provider.configureNode({
        metadata: { name: nodeName, labels: { "kubernetes.io/role": "agent" } },
        status: {
          addresses: [{ type: "InternalIP", address: "10.1.0.1" }, {
            type: "Hostname",
            address: nodeName,
          }],
          nodeInfo: { kubeletVersion: "v1.36.3-vkedge" } as NodeSystemInfo,
        },
      }, signal);
      assertEquals(node.status?.capacity, { cpu: "32", memory: `${128 * 2 ** 20}Ki`, pods: "110" });
      assertEquals(node.status?.allocatable, node.status?.capacity);
      assertEquals(node.status?.addresses?.[0], { type: "InternalIP", address: "10.1.0.1" });
      assertEquals(node.status?.nodeInfo?.kubeletVersion, "v1.36.3-vkedge");
      assertEquals(node.status?.nodeInfo?.containerRuntimeVersion, "zstack://1");
      assertEquals(node.status?.nodeInfo?.osImage, `ZStack at ${sim.url}`);
      assertEquals(node.metadata?.labels?.["kubernetes.io/role"], "agent");
      assertMatch(node.metadata?.labels?.["zstack.vkedge.io/zone-uuid"] ?? "", /^[0-9a-f]{32}$/);
      assertMatch(node.metadata?.labels?.["zstack.vkedge.io/cluster-uuid"] ?? "", /^[0-9a-f]{32}$/);
      await provider.ping(signal);
      sim.faults.down(5_000);
      const error = await assertRejects(() => provider.ping(signal), UnavailableError);
      assertStringIncludes(error.message, sim.url);
      sim.faults.up();
      await provider.ping(signal);
    } finally {
      stop.abort();
    }
  });
});

Deno.test("the provider module reads its config and password file and registers as zstack", async () => {
  await withSimulator(async (sim) => {
    const passwordFile = await Deno.makeTempFile();
    await Deno.writeTextFile(passwordFile, "password\n");
    const stop = new AbortController();
    try {
      const provider = await zstackModule.create({
        nodeName,
        operatingSystem: "linux",
        internalIp: "10.1.0.1",
        daemonPort: 10250,
        config: {
          endpoint: sim.url,
          auth: { account: { name: "admin", passwordFile } },
          clusterName: "test",
          placement: { zone: "zone-1" },
          networks: { default: ["l3-default"] },
        },
        signal: stop.signal,
      });
      assertEquals(provider.name, "zstack");
      await provider.ping(signal);
    } finally {
      stop.abort();
      await Deno.remove(passwordFile);
    }
  });
});

Deno.test("onPodDelete keep leaves the VM running and releases it from this node", async () => {
  await withSimulator(async (sim) => {
    const first = providerFor(sim, { config: { onPodDelete: "keep" } });
    const pod = podOf("pet");
    try {
      await first.provider.createPod(pod, signal);
      await first.provider.deletePod(pod, signal);
      const released = await eventually(
        "released status",
        () =>
          first.updates.find((update) =>
            update.status?.containerStatuses?.[0].state?.terminated?.reason === "VMReleased"
          ),
      );
      assertEquals(released.status?.phase, "Succeeded");
      const [vm] = await vmsNamed(first.client, "vkedge-default.pet");
      assertEquals(vm.state, "Running");
    } finally {
      first.stop.abort();
    }
    const second = providerFor(sim);
    try {
      assertEquals(await second.provider.getPods(signal), []);
    } finally {
      second.stop.abort();
    }
  });
});

Deno.test("each VM state change is recorded as an event on its pod", async () => {
  await withSimulator(async (sim) => {
    const { provider, stop, events } = providerFor(sim);
    try {
      const pod = podOf("evented");
      await provider.createPod(pod, signal);
      await eventually(
        "the VM Running",
        () => sim.vms().find((v) => v.name.includes("evented") && v.state === "Running"),
      );
      // The provider has seen it Running once its status says so.
      await eventually("a Running status", async () => {
        const status = await provider.getPodStatus("default", "evented", signal);
        return status?.phase === "Running" ? status : undefined;
      });
      const vm = sim.vms().find((v) => v.name.includes("evented"))!;
      await fetch(`${sim.origin}/__sim/vms/${vm.uuid}/state`, {
        method: "POST",
        body: JSON.stringify({ state: "Crashed" }),
      }).then((r) => r.body?.cancel());
      const crashed = await eventually(
        "a VMCrashed warning",
        () => events.find((e) => e.startsWith("evented Warning VMCrashed")),
      );
      assertStringIncludes(crashed, vm.uuid);
    } finally {
      stop.abort();
    }
  });
});
