// The pod ↔ Swarm mapping without an Engine: service specs from pods, the pod rebuilt
// from its services, and pod status from tasks.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { podsEqual } from "../../../lib/pods/compare.ts";
import type { Service, Task } from "../../../providers/swarm/api_types.ts";
import {
  expandReferences,
  podFromServices,
  podStatusOf,
  serviceName,
  serviceSpecFor,
  validatePod,
} from "../../../providers/swarm/mapping.ts";

const owner = { clusterName: "edge", nodeName: "node-1" };
const context = { owner, podNetwork: "net-1", restartDelaySeconds: 5, constraints: [] };

function pod(extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    metadata: { namespace: "shop", name: "web", uid: "uid-1", labels: { app: "web" } },
    spec: {
      nodeName: "node-1",
      containers: [{
        name: "app",
        image: "127.0.0.1:5000/app:1",
        command: ["run", "--name=$(NAME)", "$$(NAME)"],
        args: ["--port", "8080"],
        env: [{ name: "NAME", value: "shop" }, { name: "TOKEN", value: "s3cret" }],
        workingDir: "/srv",
        resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "100m" } },
        ports: [{ containerPort: 8080, hostPort: 18080 }, { containerPort: 9090 }],
      }, { name: "side", image: "127.0.0.1:5000/side:1" }],
      ...extra,
    },
  };
}

/** A service as the Engine lists it after `spec` was created. */
function asListed(index: number, source = pod()): Service {
  const spec = serviceSpecFor(source, index, context);
  return {
    ID: `svc-${index}`,
    Version: { Index: 10 },
    CreatedAt: "2026-12-01T10:00:00.123456789Z",
    Spec: {
      Name: spec.Name,
      Labels: spec.Labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: spec.TaskTemplate.ContainerSpec.Image,
          Env: spec.TaskTemplate.ContainerSpec.Env,
        },
      },
    },
  };
}

function task(overrides: Partial<Task> & { state: Task["Status"]["State"] }): Task {
  const { state, ...rest } = overrides;
  return {
    ID: crypto.randomUUID(),
    Version: { Index: 1 },
    CreatedAt: "2026-12-01T10:00:01Z",
    ServiceID: "svc-0",
    NodeID: "n1",
    DesiredState: "running",
    Status: {
      Timestamp: "2026-12-01T10:00:02.5Z",
      State: state,
      ContainerStatus: { ContainerID: "c1", ExitCode: 0 },
    },
    NetworksAttachments: [{ Network: { ID: "net-1" }, Addresses: ["10.0.1.7/24"] }],
    ...rest,
  };
}

const nodes = new Map([["n1", {
  ID: "n1",
  Spec: { Availability: "active", Labels: {} },
  Status: { State: "ready", Addr: "192.0.2.4" },
}]]);

Deno.test("a container becomes a replicated service: command, env, resources, host ports, network alias, restart policy", () => {
  const spec = serviceSpecFor(pod({ restartPolicy: "OnFailure" }), 0, context);
  const container = spec.TaskTemplate.ContainerSpec;
  assertEquals(spec.Mode, { Replicated: { Replicas: 1 } });
  assertEquals(container.Command, ["run", "--name=shop", "$(NAME)"]);
  assertEquals(container.Args, ["--port", "8080"]);
  assertEquals(container.Env, ["NAME=shop", "TOKEN=s3cret"]);
  assertEquals(container.Dir, "/srv");
  assertEquals(container.Hostname, "web");
  assertEquals(container.DNSConfig, { Search: ["web.shop"] });
  assertEquals(spec.TaskTemplate.Resources, {
    Limits: { NanoCPUs: 500_000_000, MemoryBytes: 134_217_728 },
    Reservations: { NanoCPUs: 100_000_000 },
  });
  assertEquals(spec.TaskTemplate.RestartPolicy, {
    Condition: "on-failure",
    Delay: 5_000_000_000,
    MaxAttempts: 0,
  });
  assertEquals(spec.TaskTemplate.Networks, [{ Target: "net-1", Aliases: ["app.web.shop"] }]);
  assertEquals(spec.EndpointSpec, {
    Mode: "dnsrr",
    Ports: [{ Protocol: "tcp", TargetPort: 8080, PublishedPort: 18080, PublishMode: "host" }],
  });
  assertEquals(container.Labels["vkedge.io/node"], "edge/node-1");
  assertEquals(container.Labels["vkedge.io/pod-uid"], "uid-1");
  assertMatch(spec.Name, /^vk-[0-9a-f]{8}-shop-web-app$/);
});

Deno.test("secret values stay in the env: no label of the service holds them", () => {
  const spec = serviceSpecFor(pod(), 0, context);
  for (const [key, value] of Object.entries(spec.Labels)) {
    assert(!value.includes("s3cret"), `label ${key} holds the secret`);
  }
});

Deno.test("restart policies: Never is none, Always (and unset) any", () => {
  assertEquals(
    serviceSpecFor(pod({ restartPolicy: "Never" }), 0, context).TaskTemplate.RestartPolicy
      .Condition,
    "none",
  );
  assertEquals(serviceSpecFor(pod(), 0, context).TaskTemplate.RestartPolicy.Condition, "any");
});

Deno.test("a hostNetwork pod joins the host network, without hostname, aliases or published ports", () => {
  const spec = serviceSpecFor(pod({ hostNetwork: true }), 0, context);
  assertEquals(spec.TaskTemplate.Networks, [{ Target: "host" }]);
  assertEquals(spec.TaskTemplate.ContainerSpec.Hostname, undefined);
  assertEquals(spec.EndpointSpec, { Mode: "dnsrr" });
});

Deno.test("limits alone reserve as much; requests alone only reserve", () => {
  const limited = pod();
  limited.spec!.containers[0].resources = { limits: { memory: "1Gi" } };
  assertEquals(serviceSpecFor(limited, 0, context).TaskTemplate.Resources, {
    Limits: { MemoryBytes: 1_073_741_824 },
    Reservations: { MemoryBytes: 1_073_741_824 },
  });
  limited.spec!.containers[0].resources = { requests: { cpu: "2" } };
  assertEquals(serviceSpecFor(limited, 0, context).TaskTemplate.Resources, {
    Reservations: { NanoCPUs: 2_000_000_000 },
  });
});

Deno.test("pods the Swarm cannot run are InvalidInputError naming why", () => {
  const init = pod({ initContainers: [{ name: "setup", image: "x" }] });
  assertThrows(() => validatePod(init), InvalidInputError, "no init containers, found setup");
  assertThrows(
    () => validatePod(pod({ containers: [] })),
    InvalidInputError,
    "at least one container",
  );
  const imageless = pod();
  delete imageless.spec!.containers[1].image;
  assertThrows(
    () => validatePod(imageless),
    InvalidInputError,
    "container side: expected an image",
  );
  const badQuantity = pod();
  badQuantity.spec!.containers[0].resources = { limits: { memory: "lots" } };
  assertThrows(
    () => validatePod(badQuantity),
    InvalidInputError,
    'expected a quantity, found "lots"',
  );
});

Deno.test("$(VAR) expands defined variables, keeps unknown ones and unescapes $$", () => {
  const env = new Map([["A", "1"]]);
  assertEquals(expandReferences("$(A)-$(B)-$$(A)-$$", env), "1-$(B)-$(A)-$");
});

Deno.test("service names stay within 63 characters and apart for different nodes", () => {
  const long = { namespace: "n".repeat(40), pod: "p".repeat(40), uid: "u", container: "c" };
  const name = serviceName(owner, long);
  assert(name.length <= 63, name);
  assert(name !== serviceName({ ...owner, nodeName: "node-2" }, long));
});

Deno.test("the pod rebuilt from its services equals the one given, in container order", () => {
  const given = pod({ tolerations: [{ key: "k", operator: "Exists" }], activeDeadlineSeconds: 60 });
  given.metadata!.annotations = { note: "x" };
  const rebuilt = podFromServices([asListed(1, given), asListed(0, given)])!;
  assert(podsEqual(rebuilt, given), JSON.stringify(rebuilt.spec));
  assertEquals(rebuilt.metadata?.uid, "uid-1");
  assertEquals(rebuilt.spec?.containers.map((c) => c.name), ["app", "side"]);
  assertEquals(rebuilt.spec?.containers[0].env?.[1], { name: "TOKEN", value: "s3cret" });
});

Deno.test("a container whose service is missing is missing from the rebuilt pod", () => {
  const rebuilt = podFromServices([asListed(1)])!;
  assertEquals(rebuilt.spec?.containers.map((c) => c.name), ["side"]);
  assert(!podsEqual(rebuilt, pod()), "the agent sees a difference and updates");
});

function status(tasks: Task[][], extra: Partial<NonNullable<Pod["spec"]>> = {}) {
  const source = pod(extra);
  return podStatusOf({
    pod: source,
    containers: source.spec!.containers.map((container, index) => ({
      name: container.name,
      image: container.image!,
      tasks: tasks[index] ?? [],
      ran: new Set<string>(),
    })),
    nodes,
    podNetworkId: "net-1",
    createdAt: "2026-12-01T10:00:00Z",
  });
}

Deno.test("running tasks: Running and Ready, pod IP from the network attachment, host IP from the node", () => {
  const s = status([[task({ state: "running" })], [task({ state: "running" })]]);
  assertEquals([s.phase, s.podIP, s.hostIP], ["Running", "10.0.1.7", "192.0.2.4"]);
  assertEquals(s.conditions?.find((c) => c.type === "Ready")?.status, "True");
  assertEquals(s.containerStatuses?.[0].containerID, "docker://c1");
});

Deno.test("a task Swarm cannot place: Pending, container waiting Unschedulable with the Swarm's reason", () => {
  const pending = task({ state: "pending" });
  pending.Status.Err = "no suitable node (insufficient resources on 1 node)";
  delete pending.Status.ContainerStatus;
  const s = status([[pending], [task({ state: "running" })]]);
  assertEquals(s.phase, "Pending");
  assertEquals(s.containerStatuses?.[0].state?.waiting?.reason, "Unschedulable");
  assertMatch(s.message ?? "", /^container app: Swarm cannot place the task: no suitable node/);
});

Deno.test("Never: a container that exited 3 makes the pod Failed once all ended; 0 everywhere Succeeded", () => {
  const failed = task({ state: "failed" });
  failed.Status.ContainerStatus!.ExitCode = 3;
  const done = task({ state: "complete" });
  const s = status([[failed], [done]], { restartPolicy: "Never" });
  assertEquals(s.phase, "Failed");
  assertEquals(s.containerStatuses?.[0].state?.terminated?.exitCode, 3);
  assertEquals(
    status([[done], [task({ state: "complete" })]], { restartPolicy: "Never" }).phase,
    "Succeeded",
  );
  assertEquals(
    status([[failed], [task({ state: "running" })]], { restartPolicy: "Never" }).phase,
    "Running",
  );
});

Deno.test("restarts: each task that ran after the first counts, the one before is the last state", () => {
  const first = task({ state: "failed", CreatedAt: "2026-12-01T10:00:01Z" });
  first.Status.ContainerStatus!.ExitCode = 1;
  const second = task({ state: "failed", CreatedAt: "2026-12-01T10:00:05Z" });
  second.Status.ContainerStatus!.ExitCode = 1;
  const third = task({ state: "running", CreatedAt: "2026-12-01T10:00:09Z" });
  const s = status([[first, third, second], [task({ state: "running" })]], {
    restartPolicy: "OnFailure",
  });
  assertEquals(s.containerStatuses?.[0].restartCount, 2);
  assertEquals(s.containerStatuses?.[0].lastState?.terminated?.exitCode, 1);
  assertEquals(s.phase, "Running");
  const waiting = task({ state: "ready", CreatedAt: "2026-12-01T10:00:13Z" });
  delete waiting.Status.ContainerStatus;
  const backingOff = status([[first, second, waiting], [task({ state: "running" })]], {
    restartPolicy: "OnFailure",
  });
  assertEquals(backingOff.containerStatuses?.[0].state?.waiting?.reason, "CrashLoopBackOff");
});

Deno.test("a rejected task (no such image) waits with ErrImagePull", () => {
  const rejected = task({ state: "rejected" });
  rejected.Status.Err = "No such image: 127.0.0.1:5000/app:1";
  delete rejected.Status.ContainerStatus;
  const s = status([[rejected], [task({ state: "running" })]]);
  assertEquals(s.containerStatuses?.[0].state?.waiting?.reason, "ErrImagePull");
  assertEquals(s.phase, "Pending");
});
