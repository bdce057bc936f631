import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../_harness/assert.ts";
import { providerRelevant } from "../../../lib/pods/compare.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { type VmInstance, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import {
  buildUserData,
  decodePodSpec,
  descriptionPrefix,
  encodePodSpec,
  expandVariables,
  identityFromTags,
  maxDescriptionLength,
  ownerTags,
  parseImageRef,
  podFromVm,
  podHostname,
  podIpsOf,
  podStatusFromVm,
  userDataAnnotation,
  validatePod,
  vmNameForPod,
  vmSizeOf,
  vmUuidForPod,
} from "../../../providers/zstack/mapping.ts";

const uid = "0f6c2b9e-5d1a-4c7e-9b3f-2a8d4e6f1c0b";

function pod(overrides: Partial<NonNullable<Pod["spec"]>> = {}, annotations = {}): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid, labels: { app: "web" }, annotations },
    spec: {
      containers: [{
        name: "main",
        image: "zstack/ubuntu-22.04",
        command: ["/usr/bin/server"],
        args: ["--port", "$(PORT)", "it's"],
        env: [{ name: "PORT", value: "8080" }, { name: "my.var", value: "x" }],
        resources: { limits: { cpu: "1500m", memory: "1000Mi" } },
      }],
      ...overrides,
    },
  };
}

function vm(fields: Partial<VmInstance> & { state: string }): VmInstance {
  return vmInstanceSchema.parse({
    uuid: "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b",
    name: "vkedge-default.web",
    imageUuid: "1111aaaa2222bbbb3333cccc4444dddd",
    defaultL3NetworkUuid: "l3b",
    createDate: "Nov 25, 2026 10:00:00 AM",
    vmNics: [
      { l3NetworkUuid: "l3a", ip: "192.168.0.9", deviceId: 0 },
      { l3NetworkUuid: "l3b", ip: "10.0.0.5", deviceId: 1, usedIps: [{ ip: "fd00::5" }] },
    ],
    ...fields,
  });
}

const since = new Date("2026-11-25T10:00:05Z");

Deno.test("a pod with two containers is refused with what to change", () => {
  const twin = pod({
    containers: [{ name: "a", image: "zstack/x" }, { name: "b", image: "zstack/y" }],
  });
  const error = assertThrows(() => validatePod(twin), InvalidInputError);
  assertStringIncludes(error.message, "pod default/web: expected exactly one container");
  assertStringIncludes(error.message, `found 2 ("a", "b"): run them in one VM image or split them`);
  assertThrows(
    () => validatePod(pod({ initContainers: [{ name: "init", image: "zstack/x" }] })),
    InvalidInputError,
    "expected no init containers",
  );
  assertThrows(
    () => validatePod(pod({ containers: [{ name: "main", image: "nginx:1.27" }] })),
    InvalidInputError,
    `expected "zstack/<ZStack image name or uuid>" such as "zstack/ubuntu-22.04", found "nginx:1.27"`,
  );
});

Deno.test("container images name ZStack images by name, uuid or configured alias", () => {
  assertEquals(parseImageRef("zstack/cirros"), { kind: "name", name: "cirros" });
  assertEquals(parseImageRef("zstack/1111aaaa2222bbbb3333cccc4444dddd"), {
    kind: "uuid",
    uuid: "1111aaaa2222bbbb3333cccc4444dddd",
  });
  assertEquals(parseImageRef("zstack/ubuntu", { ubuntu: "ubuntu-22.04" }), {
    kind: "name",
    name: "ubuntu-22.04",
  });
});

Deno.test("the VM uuid is the pod UID without dashes, or a SHA-256 prefix for other UIDs", async () => {
  assertEquals(await vmUuidForPod(uid), "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b");
  const hashed = await vmUuidForPod("not-a-uuid");
  assertEquals(hashed.length, 32);
  assertEquals(hashed, await vmUuidForPod("not-a-uuid"));
  assert(/^[0-9a-f]{32}$/.test(hashed));
});

Deno.test("VM name and tags say which cluster, node and pod the VM serves", () => {
  const identity = { namespace: "default", name: "web", uid };
  assertEquals(vmNameForPod(identity), "vkedge-default.web");
  const tags = ownerTags(identity, "edge", "node-1");
  assertEquals(tags, [
    "vkedge.io/cluster:edge",
    "vkedge.io/node:edge/node-1",
    "vkedge.io/namespace:default",
    "vkedge.io/pod:web",
    `vkedge.io/pod-uid:${uid}`,
  ]);
  assertEquals(identityFromTags([...tags, "someone-else:tag"]), identity);
  assertEquals(identityFromTags(tags.slice(0, 3)), undefined);
});

Deno.test("VM size comes from limits, then requests, then defaults, rounded up", () => {
  const defaults = { cpu: "1", memory: "1Gi" };
  assertEquals(vmSizeOf(pod().spec!.containers[0], defaults), {
    cpuNum: 2,
    memorySize: 1000 * 2 ** 20,
    explicit: true,
  });
  assertEquals(
    vmSizeOf({ name: "c", resources: { requests: { memory: "1.5G" } } }, defaults),
    { cpuNum: 1, memorySize: 1431 * 2 ** 20, explicit: true },
  );
  assertEquals(vmSizeOf({ name: "c" }, defaults), {
    cpuNum: 1,
    memorySize: 2 ** 30,
    explicit: false,
  });
});

Deno.test("user data carries hostname, env and the command with $(VAR) expanded", () => {
  const text = buildUserData({ pod: pod(), container: pod().spec!.containers[0] });
  assert(text.startsWith("#cloud-config\n"));
  const document = parseYaml(text) as {
    hostname: string;
    write_files: Array<{ path: string; content: string; permissions: string }>;
    runcmd: unknown[];
  };
  assertEquals(document.hostname, "web");
  const env = document.write_files.find((file) => file.path === "/etc/vkedge/pod.env")!;
  assertStringIncludes(env.content, "export PORT='8080'\n");
  assertStringIncludes(env.content, `# skipped "my.var": not a shell variable name`);
  assertEquals(env.permissions, "0600");
  const run = document.write_files.find((file) => file.path === "/etc/vkedge/run.sh")!;
  assertStringIncludes(run.content, `exec '/usr/bin/server' '--port' '8080' 'it'"'"'s'`);
  assertEquals(document.runcmd, [[
    "sh",
    "-c",
    "nohup /etc/vkedge/run.sh >>/var/log/vkedge-pod.log 2>&1 &",
  ]]);
});

Deno.test("user data merges a #cloud-config annotation and runs a #! script first", () => {
  const annotated = pod({}, {
    [userDataAnnotation]:
      "#cloud-config\nhostname: custom\npackages: [nginx]\nruncmd:\n  - [systemctl, start, nginx]\n",
  });
  const merged = parseYaml(
    buildUserData({ pod: annotated, container: annotated.spec!.containers[0] }),
  ) as Record<string, unknown[]>;
  assertEquals(merged.hostname as unknown, "custom");
  assertEquals(merged.packages, ["nginx"]);
  assertEquals(merged.runcmd[0], ["systemctl", "start", "nginx"]);
  assertEquals(merged.runcmd.length, 2);
  const scripted = pod({}, { [userDataAnnotation]: "#!/bin/sh\necho hi\n" });
  const withScript = parseYaml(
    buildUserData({ pod: scripted, container: scripted.spec!.containers[0] }),
  ) as Record<string, unknown[]>;
  assertEquals(withScript.runcmd[0], ["/etc/vkedge/user-data.sh"]);
  const bad = pod({}, { [userDataAnnotation]: "hello" });
  assertThrows(
    () => buildUserData({ pod: bad, container: bad.spec!.containers[0] }),
    InvalidInputError,
    `expected "#cloud-config" YAML or a "#!" script, found text starting with "hello"`,
  );
});

Deno.test("$(VAR) expansion follows the kubelet: $$ escapes, unknown names stay", () => {
  const env = new Map([["A", "1"]]);
  assertEquals(expandVariables("$(A)-$(B)-$$(A)", env), "1-$(B)-$(A)");
  assertEquals(podHostname({ metadata: { name: "Web_Server.1" } }), "web-server-1");
});

Deno.test("the remembered spec round-trips so a rebuilt pod equals the desired one", async () => {
  const desired = pod({
    tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }],
  });
  const identity = { namespace: "default", name: "web", uid };
  const { description, partial } = await encodePodSpec(desired, identity);
  assertEquals(partial, false);
  assert(description.startsWith(descriptionPrefix));
  assert(description.length <= maxDescriptionLength);
  const stored = await decodePodSpec(description);
  const rebuilt = podFromVm(vm({ state: "Running", description }), identity, stored, "node-1");
  assertEquals(providerRelevant(rebuilt), providerRelevant(desired));
  assertEquals(await decodePodSpec("set by an operator"), undefined);
});

Deno.test("a pod too large for the description drops last-applied-configuration, then all but name and image", async () => {
  const identity = { namespace: "default", name: "web", uid };
  const random = (n: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16)).join("");
  const applied = pod({}, { "kubectl.kubernetes.io/last-applied-configuration": random(3000) });
  const first = await encodePodSpec(applied, identity);
  assertEquals(first.partial, true);
  const reduced = await decodePodSpec(first.description);
  assertEquals(reduced?.annotations, undefined);
  assertEquals(reduced?.containers[0].command, ["/usr/bin/server"]);
  const huge = pod({
    containers: [{
      name: "main",
      image: "zstack/ubuntu-22.04",
      env: [{ name: "X", value: random(4000) }],
    }],
  });
  const second = await encodePodSpec(huge, identity);
  assert(second.description.length <= maxDescriptionLength);
  assertEquals((await decodePodSpec(second.description))?.containers, [
    { name: "main", image: "zstack/ubuntu-22.04" },
  ]);
});

Deno.test("pod IPs come from the default NIC, IPv4 first", () => {
  assertEquals(podIpsOf(vm({ state: "Running" })), ["10.0.0.5", "fd00::5"]);
  assertEquals(podIpsOf(vm({ state: "Running", defaultL3NetworkUuid: undefined })), [
    "192.168.0.9",
  ]);
  assertEquals(podIpsOf(vm({ state: "Created", vmNics: [] })), []);
});

Deno.test("Starting is Pending/ContainerCreating; Running is Running and Ready with IPs", () => {
  const desired = pod();
  const starting = podStatusFromVm(vm({ state: "Starting" }), { pod: desired, stateSince: since });
  assertEquals(starting.phase, "Pending");
  assertEquals(starting.containerStatuses?.[0].state?.waiting?.reason, "ContainerCreating");
  assertEquals(starting.conditions?.find((c) => c.type === "Ready")?.status, "False");
  const running = podStatusFromVm(vm({ state: "Running" }), {
    pod: desired,
    stateSince: since,
    runningSince: since,
    hostIp: "172.16.0.11",
  });
  assertEquals(running.phase, "Running");
  assertEquals(running.podIP, "10.0.0.5");
  assertEquals(running.podIPs, [{ ip: "10.0.0.5" }, { ip: "fd00::5" }]);
  assertEquals(running.hostIP, "172.16.0.11");
  assertEquals(running.startTime, "2026-11-25T10:00:00Z");
  assertEquals(running.qosClass, "Guaranteed");
  assertEquals(running.conditions?.find((c) => c.type === "Ready"), {
    type: "Ready",
    status: "True",
    lastTransitionTime: "2026-11-25T10:00:05Z",
  });
  const container = running.containerStatuses![0];
  assertEquals(container.ready, true);
  assertEquals(container.image, "zstack/ubuntu-22.04");
  assertEquals(container.containerID, "zstack://0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b");
  assertEquals(container.state?.running?.startedAt, "2026-11-25T10:00:05Z");
});

Deno.test("Stopped and Crashed are not Ready with the reason; Destroyed is terminated", () => {
  const desired = pod();
  const stopped = podStatusFromVm(vm({ state: "Stopped" }), { pod: desired, stateSince: since });
  assertEquals(stopped.phase, "Running");
  const ready = stopped.conditions?.find((c) => c.type === "Ready");
  assertEquals([ready?.status, ready?.reason], ["False", "VMStopped"]);
  assertEquals(stopped.containerStatuses?.[0].state?.terminated?.reason, "VMStopped");
  const crashed = podStatusFromVm(vm({ state: "Crashed" }), { pod: desired, stateSince: since });
  assertEquals(crashed.containerStatuses?.[0].state?.terminated?.exitCode, 1);
  const paused = podStatusFromVm(vm({ state: "Paused" }), { pod: desired, stateSince: since });
  assertEquals(paused.conditions?.find((c) => c.type === "Ready")?.reason, "VMPaused");
  const external = podStatusFromVm(vm({ state: "Destroyed" }), { pod: desired, stateSince: since });
  assertEquals([external.phase, external.reason], ["Failed", "VMDestroyed"]);
  assertEquals(external.podIP, undefined);
  const ours = podStatusFromVm(vm({ state: "Destroyed" }), {
    pod: desired,
    stateSince: since,
    deleted: { at: since, byUs: true },
  });
  assertEquals(ours.phase, "Succeeded");
  assertEquals(ours.containerStatuses?.[0].state?.terminated?.exitCode, 0);
});

Deno.test("the status of an unchanged VM is identical (so only changes are reported)", () => {
  const context = { pod: pod(), stateSince: since, runningSince: since };
  assertEquals(
    podStatusFromVm(vm({ state: "Running" }), context),
    podStatusFromVm(vm({ state: "Running" }), context),
  );
});
