import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider, type MockProviderOptions } from "../../../providers/mock/mock_provider.ts";
import mockModule from "../../../providers/mock/mod.ts";
import { knownProviders, loadProvider } from "../../../providers/mod.ts";
import {
  AlreadyExistsError,
  type ContainerLogOptions,
  hasAttachToContainer,
  hasContainerLogs,
  hasExecInContainer,
  hasMetricsResource,
  hasPodNotifier,
  hasPortForwarder,
  hasStatsSummary,
  hasVirtualMachineMigration,
  hasVirtualMachinePower,
  hasVirtualMachineSnapshots,
  hasVolumeProvisioner,
  InvalidInputError,
  isRetryable,
  NotFoundError,
  UnavailableError,
} from "../../../lib/provider.ts";

const signal = new AbortController().signal;

function makePod(name: string, options: { containers?: string[]; init?: string[] } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name, uid: `uid-${name}` },
    spec: {
      nodeName: "mock-node",
      initContainers: (options.init ?? []).map((c) => ({ name: c, image: `busybox:${c}` })),
      containers: (options.containers ?? ["app"]).map((c) => ({
        name: c,
        image: `nginx:${c}`,
        resources: { requests: { cpu: "100m", memory: "64Mi" } },
      })),
    },
  };
}

function makeProvider(
  raw: unknown = {},
  options: Partial<MockProviderOptions> = {},
): MockProvider {
  return new MockProvider(parseMockConfig(raw), {
    nodeName: "mock-node",
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    daemonPort: 10250,
    ...options,
  });
}

function fakeClock(start = Date.parse("2030-01-01T00:00:00Z")) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function ipToNumber(ip: string): number {
  return ip.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("created pod is Running at once with a pod IP from the CIDR and ready containers", async () => {
  const provider = makeProvider({ podCidr: "10.233.0.0/16" });
  await provider.createPod(makePod("web", { containers: ["a", "b"], init: ["setup"] }), signal);
  const pod = await provider.getPod("default", "web", signal);
  assert.ok(pod?.status);
  const status = pod.status;
  assert.equal(status.phase, "Running");
  assert.equal(status.hostIP, "192.0.2.10");
  assert.deepEqual(status.hostIPs, [{ ip: "192.0.2.10" }]);
  assert.ok(status.podIP);
  assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
  assert.equal(ipToNumber(status.podIP) >>> 16, ipToNumber("10.233.0.0") >>> 16);
  assert.equal(status.qosClass, "Burstable");
  const conditions = Object.fromEntries(
    (status.conditions ?? []).map((c) => [c.type, c]),
  );
  for (const type of ["PodScheduled", "Initialized", "ContainersReady", "Ready"]) {
    assert.equal(conditions[type]?.status, "True", `${type} condition`);
    assert.ok(conditions[type]?.lastTransitionTime, `${type} lastTransitionTime`);
  }
  assert.equal(status.containerStatuses?.length, 2);
  for (const container of status.containerStatuses ?? []) {
    assert.equal(container.ready, true);
    assert.equal(container.started, true);
    assert.equal(container.restartCount, 0);
    assert.ok(container.state?.running?.startedAt);
    assert.equal(container.containerID, `mock://uid-web/${container.name}`);
    assert.equal(container.image, `nginx:${container.name}`);
    assert.match(container.imageID, /^sha256:[0-9a-f]{64}$/);
  }
  const [init] = status.initContainerStatuses ?? [];
  assert.equal(init.name, "setup");
  assert.equal(init.state?.terminated?.reason, "Completed");
  assert.equal(init.state?.terminated?.exitCode, 0);
  assert.equal(init.ready, true);
  assert.deepEqual(await provider.getPodStatus("default", "web", signal), status);
  assert.equal((await provider.getPods(signal)).length, 1);
});

Deno.test("creating a pod twice is AlreadyExists and a bad spec is InvalidInput", async () => {
  const provider = makeProvider();
  await provider.createPod(makePod("web"), signal);
  await assert.rejects(provider.createPod(makePod("web"), signal), AlreadyExistsError);
  const noContainers = makePod("empty", { containers: [] });
  await assert.rejects(provider.createPod(noContainers, signal), (error: unknown) => {
    assert.ok(error instanceof InvalidInputError);
    assert.equal(isRetryable(error), false);
    assert.match(error.message, /spec\.containers/);
    return true;
  });
});

Deno.test("updating a pod keeps start times; a new image restarts only that container", async () => {
  const clock = fakeClock();
  const provider = makeProvider({}, { now: clock.now });
  await provider.createPod(makePod("web", { containers: ["a", "b"] }), signal);
  const before = await provider.getPod("default", "web", signal);
  clock.advance(60_000);
  const updated = makePod("web", { containers: ["a", "b"] });
  updated.metadata = { ...updated.metadata, labels: { tier: "front" } };
  await provider.updatePod(updated, signal);
  const after = await provider.getPod("default", "web", signal);
  assert.equal(after?.metadata?.labels?.tier, "front");
  assert.equal(after?.status?.startTime, before?.status?.startTime);
  assert.deepEqual(after?.status?.containerStatuses, before?.status?.containerStatuses);
  assert.equal(after?.status?.podIP, before?.status?.podIP);

  const changed = makePod("web", { containers: ["a", "b"] });
  changed.spec!.containers[1].image = "nginx:2";
  await provider.updatePod(changed, signal);
  const restarted = await provider.getPod("default", "web", signal);
  const [a, b] = restarted?.status?.containerStatuses ?? [];
  assert.equal(a.restartCount, 0);
  assert.equal(a.state?.running?.startedAt, "2030-01-01T00:00:00Z");
  assert.equal(b.restartCount, 1);
  assert.equal(b.image, "nginx:2");
  assert.equal(b.state?.running?.startedAt, "2030-01-01T00:01:00Z");
  assert.equal(b.lastState?.terminated?.startedAt, "2030-01-01T00:00:00Z");
  await assert.rejects(provider.updatePod(makePod("ghost"), signal), NotFoundError);
});

Deno.test("deleting a pod reports terminated containers through notify, then forgets it", async () => {
  const provider = makeProvider();
  const seen: Pod[] = [];
  const notifications = new AbortController();
  provider.notifyPods(notifications.signal, (pod) => seen.push(pod));
  await provider.createPod(makePod("web"), signal);
  await provider.deletePod(makePod("web"), signal);
  await Promise.resolve();
  assert.equal(seen.length, 2);
  assert.equal(seen[0].status?.phase, "Running");
  const last = seen[1].status;
  assert.equal(last?.phase, "Succeeded");
  assert.equal(last?.reason, "MockProviderPodDeleted");
  const container = last?.containerStatuses?.[0];
  assert.equal(container?.ready, false);
  assert.equal(container?.state?.terminated?.exitCode, 0);
  assert.ok(container?.state?.terminated?.finishedAt);
  assert.equal(
    last?.conditions?.find((c) => c.type === "Ready")?.status,
    "False",
  );
  assert.equal(await provider.getPod("default", "web", signal), undefined);
  assert.equal(await provider.getPodStatus("default", "web", signal), undefined);
  await assert.rejects(provider.deletePod(makePod("web"), signal), NotFoundError);

  notifications.abort();
  await provider.createPod(makePod("later"), signal);
  await Promise.resolve();
  assert.equal(seen.length, 2, "no callback after its signal aborted");
});

Deno.test("an update that changes no status notifies nothing; a restart notifies once", async () => {
  const provider = makeProvider();
  const seen: Pod[] = [];
  provider.notifyPods(signal, (pod) => seen.push(pod));
  await provider.createPod(makePod("web"), signal);
  const relabelled = makePod("web");
  relabelled.metadata = { ...relabelled.metadata, labels: { tier: "front" } };
  await provider.updatePod(relabelled, signal);
  await Promise.resolve();
  assert.equal(seen.length, 1, "create notifies, a label change does not");

  const changed = makePod("web");
  changed.spec!.containers[0].image = "nginx:2";
  await provider.updatePod(changed, signal);
  await provider.updatePod(changed, signal);
  await Promise.resolve();
  assert.equal(seen.length, 2, "the restart notifies once");
  assert.equal(seen[1].status?.containerStatuses?.[0]?.restartCount, 1);

  await provider.deletePod(changed, signal);
  await provider.createPod(makePod("web"), signal);
  await Promise.resolve();
  assert.deepEqual(seen.map((pod) => pod.status?.phase), [
    "Running",
    "Running",
    "Succeeded",
    "Running",
  ]);
});

Deno.test("deleting with a stale UID does not touch the pod that now has the name", async () => {
  const provider = makeProvider();
  await provider.createPod(makePod("web"), signal);
  const stale = makePod("web");
  stale.metadata = { ...stale.metadata, uid: "an-older-incarnation" };
  await assert.rejects(provider.deletePod(stale, signal), NotFoundError);
  assert.ok(await provider.getPod("default", "web", signal));
});

Deno.test("300 pods get 300 distinct IPs, stable per UID, and a full CIDR is Unavailable", async () => {
  const provider = makeProvider({ podCidr: "10.50.0.0/22" });
  const ips = new Set<string>();
  for (let index = 0; index < 300; index++) {
    await provider.createPod(makePod(`pod-${index}`), signal);
  }
  for (const pod of await provider.getPods(signal)) ips.add(pod.status?.podIP ?? "");
  assert.equal(ips.size, 300);
  for (const ip of ips) {
    const value = ipToNumber(ip);
    assert.ok(value > ipToNumber("10.50.0.0") && value < ipToNumber("10.50.3.255"), ip);
  }
  const first = (await provider.getPod("default", "pod-7", signal))?.status?.podIP;
  await provider.deletePod(makePod("pod-7"), signal);
  await provider.createPod(makePod("pod-7"), signal);
  assert.equal((await provider.getPod("default", "pod-7", signal))?.status?.podIP, first);

  const tiny = makeProvider({ podCidr: "10.60.0.0/30" });
  await tiny.createPod(makePod("one"), signal);
  await tiny.createPod(makePod("two"), signal);
  await assert.rejects(tiny.createPod(makePod("three"), signal), (error: unknown) => {
    assert.ok(error instanceof UnavailableError);
    assert.match(error.message, /no free pod IP left in 10\.60\.0\.0\/30/);
    return true;
  });
});

Deno.test("the fault file makes ping and delete fail while it names them", async () => {
  const dir = await Deno.makeTempDir();
  const faultFile = `${dir}/faults`;
  try {
    const provider = makeProvider({ faultFile });
    await provider.ping(signal);
    await provider.createPod(makePod("web"), signal);

    await Deno.writeTextFile(faultFile, "ping\n");
    await assert.rejects(provider.ping(signal), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(isRetryable(error), true);
      assert.match(error.message, /mock provider: fault injected/);
      return true;
    });
    await provider.deletePod(makePod("web"), signal);

    await provider.createPod(makePod("web"), signal);
    await Deno.writeTextFile(faultFile, "delete");
    await provider.ping(signal);
    await assert.rejects(provider.deletePod(makePod("web"), signal), UnavailableError);
    assert.ok(await provider.getPod("default", "web", signal), "pod survives a failed delete");

    await Deno.remove(faultFile);
    await provider.deletePod(makePod("web"), signal);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setHealthy(false) makes ping fail until set healthy again", async () => {
  const provider = makeProvider();
  provider.setHealthy(false);
  await assert.rejects(provider.ping(signal), /marked unhealthy/);
  provider.setHealthy(true);
  await provider.ping(signal);
});

Deno.test("configureNode fills capacity, addresses and nodeInfo but leaves conditions alone", async () => {
  const provider = makeProvider(
    { capacity: { cpu: "8", "nvidia.com/gpu": 1 }, labels: { zone: "edge-1" } },
  );
  const base: Node = {
    metadata: { name: "mock-node", labels: { type: "virtual-kubelet" } },
    spec: { taints: [{ key: "virtual-kubelet.io/provider", value: "mock", effect: "NoSchedule" }] },
    status: {
      conditions: [{ type: "Ready", status: "False" }],
      addresses: [
        { type: "InternalIP", address: "192.0.2.10" },
        { type: "Hostname", address: "mock-node" },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        kubeletVersion: "v1.36.3-vkedge-0.1.0",
        operatingSystem: "linux",
        architecture: "amd64",
        bootID: "",
        containerRuntimeVersion: "vkedge://mock",
        kernelVersion: "",
        kubeProxyVersion: "",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
  const node = await provider.configureNode(base, signal);
  assert.equal(node.metadata?.name, "mock-node");
  assert.equal(node.metadata?.labels?.type, "virtual-kubelet");
  assert.equal(node.metadata?.labels?.zone, "edge-1");
  assert.deepEqual(node.spec?.taints, base.spec?.taints);
  assert.deepEqual(node.status?.conditions, base.status?.conditions);
  assert.equal(node.status?.capacity?.cpu, "8");
  assert.equal(node.status?.capacity?.memory, "100Gi");
  assert.equal(node.status?.capacity?.["nvidia.com/gpu"], "1");
  assert.deepEqual(node.status?.allocatable, node.status?.capacity);
  assert.deepEqual(node.status?.addresses, [
    { type: "InternalIP", address: "192.0.2.10" },
    { type: "Hostname", address: "mock-node" },
  ]);
  assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
  const info = node.status?.nodeInfo;
  assert.equal(info?.kubeletVersion, "v1.36.3-vkedge-0.1.0");
  assert.equal(info?.operatingSystem, "linux");
  assert.ok(info?.architecture);
  assert.ok(info?.kernelVersion);
  assert.ok(info?.osImage);
  assert.match(info?.machineID ?? "", /^[0-9a-f]{32}$/);
});

/** The log of container `container` of pod `default/pod`, as text. */
async function logsOf(
  provider: MockProvider,
  options: ContainerLogOptions,
  ref: { pod?: string; container?: string } = {},
): Promise<string> {
  return await readAll(
    await provider.getContainerLogs(
      { namespace: "default", pod: ref.pod ?? "web", container: ref.container ?? "app" },
      options,
      signal,
    ),
  );
}

Deno.test("logs honour tail, since, limitBytes and timestamps", async () => {
  const clock = fakeClock();
  const provider = makeProvider({ logHeartbeatSeconds: 10 }, { now: clock.now });
  await provider.createPod(makePod("web", { containers: ["app"] }), signal);
  clock.advance(55_000);
  const full = await logsOf(provider, {});
  const lines = full.trimEnd().split("\n");
  assert.equal(lines.length, 6);
  assert.equal(lines[0], "mock: container app of pod default/web started from image nginx:app");
  assert.equal(lines[5], "mock: container app of pod default/web heartbeat 5, up 50s");

  const tail = await logsOf(provider, { tail: 2 });
  assert.deepEqual(tail.trimEnd().split("\n"), lines.slice(4));

  const since = await logsOf(provider, { sinceSeconds: 25 });
  assert.deepEqual(since.trimEnd().split("\n"), lines.slice(3));
  const sinceTime = await logsOf(provider, { sinceTime: new Date("2030-01-01T00:00:40Z") });
  assert.deepEqual(sinceTime.trimEnd().split("\n"), lines.slice(4));

  const limited = await logsOf(provider, { limitBytes: 20 });
  assert.equal(limited, full.slice(0, 20));

  const stamped = await logsOf(provider, { timestamps: true, tail: 1 });
  assert.equal(stamped, `2030-01-01T00:00:50.000000000Z ${lines[5]}\n`);

  await assert.rejects(
    logsOf(provider, {}, { container: "nope" }),
    (error: unknown) => error instanceof NotFoundError && /"nope".*"app"/.test(error.message),
  );
  await assert.rejects(logsOf(provider, {}, { pod: "ghost" }), NotFoundError);
  await assert.rejects(logsOf(provider, { previous: true }), InvalidInputError);
});

Deno.test("previous logs are the run an image change ended, with its end line", async () => {
  const clock = fakeClock();
  const provider = makeProvider({ logHeartbeatSeconds: 10 }, { now: clock.now });
  await provider.createPod(makePod("web"), signal);
  clock.advance(25_000);
  const changed = makePod("web");
  changed.spec!.containers[0].image = "nginx:2";
  await provider.updatePod(changed, signal);
  clock.advance(10_000);
  assert.deepEqual((await logsOf(provider, { previous: true })).trimEnd().split("\n"), [
    "mock: container app of pod default/web started from image nginx:app",
    "mock: container app of pod default/web heartbeat 1, up 10s",
    "mock: container app of pod default/web heartbeat 2, up 20s",
    "mock: container app of pod default/web terminated: mock provider restarted the container to change its image to nginx:2",
  ]);
  assert.deepEqual((await logsOf(provider, { sinceSeconds: 5 })).trimEnd().split("\n"), [
    "mock: container app of pod default/web heartbeat 1, up 10s",
  ]);
  assert.equal(
    await logsOf(provider, { previous: true, timestamps: true, tail: 1 }),
    "2030-01-01T00:00:25.000000000Z mock: container app of pod default/web terminated: " +
      "mock provider restarted the container to change its image to nginx:2\n",
  );
});

Deno.test("followed logs stream heartbeats and end when the signal aborts or the pod is deleted", async () => {
  const provider = makeProvider({ logHeartbeatSeconds: 1 });
  await provider.createPod(makePod("web"), signal);
  const reader = new AbortController();
  const stream = await provider.getContainerLogs(
    { namespace: "default", pod: "web", container: "app" },
    { follow: true },
    reader.signal,
  );
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  const started = Date.now();
  for await (const chunk of stream) {
    chunks.push(decoder.decode(chunk));
    if (chunks.length === 2) reader.abort();
  }
  assert.match(chunks[0], /started from image/);
  assert.match(chunks[1], /heartbeat 1, up 1s/);
  assert.ok(Date.now() - started < 3000);

  const second = await provider.getContainerLogs(
    { namespace: "default", pod: "web", container: "app" },
    { follow: true },
    signal,
  );
  setTimeout(() => void provider.deletePod(makePod("web"), signal), 100);
  const text = await readAll(second);
  assert.match(text.trimEnd().split("\n").at(-1) ?? "", /terminated: .*pod deletion/);
});

Deno.test("stats and metrics cover every running container with monotonic cpu and stable memory", async () => {
  const clock = fakeClock();
  const provider = makeProvider({}, { now: clock.now });
  await provider.createPod(
    makePod("three", { containers: ["a", "b", "c"], init: ["setup"] }),
    signal,
  );
  await provider.createPod(makePod("one"), signal);
  clock.advance(30_000);
  const first = await provider.getStatsSummary(signal);
  assert.equal(first.node.nodeName, "mock-node");
  assert.equal(first.pods.length, 2);
  const three = first.pods.find((pod) => pod.podRef.name === "three");
  assert.deepEqual(three?.podRef, { name: "three", namespace: "default", uid: "uid-three" });
  assert.deepEqual(three?.containers.map((c) => c.name), ["a", "b", "c"]);
  const sum = (three?.containers ?? []).reduce(
    (total, c) => total + (c.memory?.workingSetBytes ?? 0),
    0,
  );
  assert.equal(three?.memory?.workingSetBytes, sum);
  for (const container of three?.containers ?? []) {
    assert.ok((container.cpu?.usageCoreNanoSeconds ?? 0) > 0);
    assert.ok((container.memory?.workingSetBytes ?? 0) > 0);
  }

  clock.advance(30_000);
  const second = await provider.getStatsSummary(signal);
  const threeLater = second.pods.find((pod) => pod.podRef.name === "three");
  assert.ok(
    (threeLater?.cpu?.usageCoreNanoSeconds ?? 0) > (three?.cpu?.usageCoreNanoSeconds ?? 0),
  );
  assert.equal(threeLater?.memory?.workingSetBytes, three?.memory?.workingSetBytes);
  const nodeCpuBefore = second.node.cpu?.usageCoreNanoSeconds ?? 0;
  await provider.deletePod(makePod("three"), signal);
  const third = await provider.getStatsSummary(signal);
  assert.equal(third.pods.length, 1);
  assert.ok((third.node.cpu?.usageCoreNanoSeconds ?? 0) >= nodeCpuBefore, "node counter monotonic");

  const again = makeProvider({}, { now: fakeClock().now });
  await again.createPod(makePod("three", { containers: ["a", "b", "c"] }), signal);
  const repeat = await again.getStatsSummary(signal);
  assert.deepEqual(
    repeat.pods[0].containers.map((c) => c.memory?.workingSetBytes),
    three?.containers.map((c) => c.memory?.workingSetBytes),
    "deterministic from the pod UID",
  );

  const families = await provider.getMetricsResource(signal);
  const byName = new Map(families.map((family) => [family.name, family]));
  assert.equal(byName.get("container_cpu_usage_seconds_total")?.samples.length, 1);
  assert.equal(byName.get("pod_memory_working_set_bytes")?.samples[0].labels.pod, "one");
  assert.equal(byName.get("node_cpu_usage_seconds_total")?.samples.length, 1);
  assert.equal(byName.get("resource_scrape_error")?.samples[0].value, 0);
});

Deno.test("the registry loads the mock module and names the known providers otherwise", async () => {
  assert.deepEqual(knownProviders(), [
    "kubernetes",
    "mock",
    "openstack",
    "swarm",
    "vsphere",
    "zstack",
  ]);
  const module = await loadProvider("mock");
  assert.equal(module, mockModule);
  const provider = await module.create({
    nodeName: "n",
    operatingSystem: "linux",
    internalIp: "192.0.2.1",
    daemonPort: 10250,
    config: { capacity: { cpu: "2" } },
    signal,
  });
  assert.equal(provider.name, "mock");
  assert.ok(hasContainerLogs(provider));
  assert.ok(hasStatsSummary(provider));
  assert.ok(hasMetricsResource(provider));
  assert.ok(hasPodNotifier(provider));
  assert.ok(hasExecInContainer(provider));
  assert.ok(hasAttachToContainer(provider));
  assert.ok(hasPortForwarder(provider));
  assert.ok(hasVirtualMachinePower(provider));
  assert.ok(hasVirtualMachineSnapshots(provider));
  assert.ok(hasVirtualMachineMigration(provider));
  assert.ok(hasVolumeProvisioner(provider));
  await assert.rejects(
    loadProvider("zstak"),
    /unknown provider "zstak": expected one of "kubernetes", "mock"/,
  );
  await assert.rejects(
    module.create({
      nodeName: "n",
      operatingSystem: "linux",
      internalIp: "192.0.2.1",
      daemonPort: 10250,
      config: { capacity: { cpu: "many" } },
      signal,
    }),
    /capacity\.cpu/,
  );
});

Deno.test("a pod without init containers has no initContainerStatuses, as the API server stores it", async () => {
  const provider = makeProvider();
  await provider.createPod(makePod("web"), signal);
  const status = await provider.getPodStatus("default", "web", signal);
  assert.equal(status?.containerStatuses?.length, 1);
  assert.ok(!("initContainerStatuses" in (status ?? {})));
});
