import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider } from "../../../providers/mock/mock_provider.ts";
import { encodeState, readState, readStateFile } from "../../../providers/mock/state_file.ts";
import { InvalidInputError, isRetryable } from "../../../lib/provider.ts";

const signal = new AbortController().signal;

function makePod(name: string, image = "nginx:1.27"): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "default", name, uid: `uid-${name}`, labels: { app: name } },
    spec: {
      nodeName: "mock-node",
      initContainers: [{ name: "setup", image: "busybox" }],
      containers: [{ name: "app", image }],
    },
  };
}

function makeProvider(stateFile: string, now?: () => number): MockProvider {
  return new MockProvider(parseMockConfig({ stateFile, capacity: { pods: "110" } }), {
    nodeName: "mock-node",
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    daemonPort: 10250,
    now,
  });
}

async function withStateFile(body: (path: string, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-state-" });
  try {
    await body(`${dir}/pods.json`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function savedNames(path: string): string[] {
  return readStateFile(path).map((saved) => saved.pod.metadata!.name!).sort();
}

Deno.test("mock config accepts a state file path", () => {
  assert.equal(
    parseMockConfig({ stateFile: "/var/lib/mock.json" }).stateFile,
    "/var/lib/mock.json",
  );
  assert.equal(parseMockConfig({}).stateFile, undefined);
  assert.throws(() => parseMockConfig({ stateFile: "" }), /field "stateFile"/);
});

Deno.test("a provider on the same state file runs the pods of the last one with the same status", async () => {
  await withStateFile(async (path) => {
    let now = Date.parse("2030-01-01T00:00:00.250Z");
    const first = makeProvider(path, () => now);
    await first.createPod(makePod("web"), signal);
    await first.createPod(makePod("db"), signal);
    await first.createPod(makePod("gone"), signal);
    now += 60_000;
    await first.updatePod(makePod("web", "nginx:1.28"), signal);
    await first.deletePod(makePod("gone"), signal);
    const before = await first.getPods(signal);

    const second = makeProvider(path, () => now);
    const after = await second.getPods(signal);
    assert.deepEqual(after, before);
    const web = after.find((pod) => pod.metadata?.name === "web");
    assert.equal(web?.metadata?.uid, "uid-web");
    assert.equal(web?.status?.startTime, "2030-01-01T00:00:00Z");
    assert.equal(web?.status?.containerStatuses?.[0]?.restartCount, 1);
    assert.equal(web?.status?.containerStatuses?.[0]?.image, "nginx:1.28");
    assert.equal(await second.getPod("default", "gone", signal), undefined);
  });
});

Deno.test("every created pod is in the state file when its createPod resolves, even in a burst", async () => {
  await withStateFile(async (path) => {
    const provider = makeProvider(path);
    const names = Array.from({ length: 40 }, (_, index) => `pod-${index}`);
    const missing: string[] = [];
    await Promise.all(names.map((name) =>
      provider.createPod(makePod(name), signal).then(() => {
        if (!savedNames(path).includes(name)) missing.push(name);
      })
    ));
    assert.deepEqual(missing, []);
    assert.deepEqual(savedNames(path), [...names].sort());
  });
});

Deno.test("a deleted pod is out of the state file when deletePod resolves", async () => {
  await withStateFile(async (path) => {
    const provider = makeProvider(path);
    await provider.createPod(makePod("web"), signal);
    await provider.createPod(makePod("db"), signal);
    await provider.deletePod(makePod("web"), signal);
    assert.deepEqual(savedNames(path), ["db"]);
  });
});

Deno.test("restored pod IPs are not handed to new pods", async () => {
  await withStateFile(async (path) => {
    const first = makeProvider(path);
    for (let index = 0; index < 20; index++) await first.createPod(makePod(`old-${index}`), signal);
    const second = makeProvider(path);
    const restored = new Set((await second.getPods(signal)).map((pod) => pod.status?.podIP));
    assert.equal(restored.size, 20);
    for (let index = 0; index < 20; index++) {
      await second.createPod(makePod(`new-${index}`), signal);
      const pod = await second.getPod("default", `new-${index}`, signal);
      assert.ok(!restored.has(pod?.status?.podIP), `${pod?.status?.podIP} handed out twice`);
    }
  });
});

Deno.test("the state file is replaced atomically and leaves no temporary file behind", async (t) => {
  await withStateFile(async (path, dir) => {
    const provider = makeProvider(path);
    await Promise.all(
      Array.from({ length: 10 }, (_, index) => provider.createPod(makePod(`p${index}`), signal)),
    );
    const entries = [...Deno.readDirSync(dir)].map((entry) => entry.name);
    assert.deepEqual(entries, ["pods.json"]);
    await t.step("its content is the documented format", () => {
      const [first, ...changes] = Deno.readTextFileSync(path).trimEnd().split("\n");
      const json = JSON.parse(first);
      assert.equal(json.version, 2);
      const pods = [...json.pods, ...changes.map((line) => JSON.parse(line).pod)];
      assert.equal(pods.length, 10);
      assert.match(pods[0].podIP, /^10\.233\.\d+\.\d+$/);
      assert.match(pods[0].startTime, /^\d{4}-\d\d-\d\dT.*Z$/);
      assert.equal(pods[0].pod.status, undefined);
    });
  });
});

Deno.test("creating a pod appends it to the state file instead of rewriting the file", async () => {
  await withStateFile(async (path) => {
    const provider = makeProvider(path);
    await provider.createPod(makePod("first"), signal);
    const { ino } = Deno.statSync(path);
    const firstLine = Deno.readTextFileSync(path).split("\n")[0];
    let size = Deno.statSync(path).size;
    for (let index = 0; index < 30; index++) {
      await provider.createPod(makePod(`p${index}`), signal);
      const grown = Deno.statSync(path).size - size;
      size += grown;
      // One line of about one pod, never the whole file again.
      assert.ok(grown > 0 && grown < 2000, `the file grew by ${grown} bytes for one pod`);
    }
    await provider.deletePod(makePod("p3"), signal);
    assert.equal(Deno.statSync(path).ino, ino, "the file was replaced");
    assert.equal(Deno.readTextFileSync(path).split("\n")[0], firstLine);
    assert.equal(savedNames(path).length, 30);
    assert.ok(!savedNames(path).includes("p3"));
  });
});

Deno.test("once the appended changes outgrow the state, the file is rewritten as one line with the same pods", async () => {
  await withStateFile(async (path) => {
    const provider = makeProvider(path);
    await provider.createPod(makePod("web"), signal);
    let now = 0;
    // Each update appends the pod again; 1 MiB of them makes a rewrite.
    for (let rewritten = false, image = 0; !rewritten; image++) {
      await provider.updatePod(makePod("web", `nginx:${image}`), signal);
      rewritten = Deno.readTextFileSync(path).trimEnd().split("\n").length === 1;
      assert.ok(++now < 2000, "no rewrite after 2000 updates");
    }
    const [saved] = readStateFile(path);
    assert.equal(savedNames(path).join(), "web");
    assert.match(saved.containers.find((c) => c.name === "app")!.current.image, /^nginx:\d+$/);
    assert.ok(Deno.statSync(path).size < 4096, `${Deno.statSync(path).size} bytes left`);
  });
});

Deno.test("a change cut short by a crash (a torn last line) is ignored; a bad line before it is not", async () => {
  await withStateFile(async (path) => {
    const provider = makeProvider(path);
    await provider.createPod(makePod("web"), signal);
    await provider.createPod(makePod("db"), signal);
    const text = Deno.readTextFileSync(path);
    Deno.writeTextFileSync(path, `${text}{"pod":{"pod":{"metadata":`);
    assert.deepEqual(savedNames(path), ["db", "web"]);
    const second = makeProvider(path);
    assert.equal((await second.getPods(signal)).length, 2);
    Deno.writeTextFileSync(path, `${text}{"pod":\n{"removed":"default/web"}\n`);
    assert.throws(() => readStateFile(path), /line \d+: expected JSON/);
  });
});

Deno.test("a state file of version 1 (one JSON document) is read and replaced by the journal", async () => {
  await withStateFile(async (path) => {
    const saved = {
      pod: makePod("old"),
      podIP: "10.233.0.9",
      startTime: "2030-01-01T00:00:00.000Z",
      containers: [],
    };
    Deno.writeTextFileSync(path, JSON.stringify({ version: 1, pods: [saved] }, null, 2));
    const provider = makeProvider(path);
    assert.equal((await provider.getPod("default", "old", signal))?.status?.podIP, "10.233.0.9");
    await provider.createPod(makePod("new"), signal);
    assert.equal(JSON.parse(Deno.readTextFileSync(path).split("\n")[0]).version, 2);
    assert.deepEqual(savedNames(path), ["new", "old"]);
  });
});

Deno.test("without a state file nothing is written and a missing file starts empty", async () => {
  await withStateFile(async (path, dir) => {
    const provider = makeProvider(path);
    assert.deepEqual(await provider.getPods(signal), []);
    const inMemory = new MockProvider(parseMockConfig({}), {
      nodeName: "mock-node",
      operatingSystem: "linux",
      internalIp: "192.0.2.10",
      daemonPort: 10250,
    });
    await inMemory.createPod(makePod("web"), signal);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("an unusable state file fails creation naming the file and what is wrong", async () => {
  await withStateFile(async (path) => {
    await Deno.writeTextFile(path, "{not json");
    assert.throws(() => makeProvider(path), /state file .* expected JSON/);
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, pods: [{ pod: {} }] }));
    assert.throws(() => makeProvider(path), (e: unknown) => {
      assert.ok(e instanceof InvalidInputError);
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /field "pods\.0\.pod"/);
      return true;
    });
    const one = {
      pod: makePod("web"),
      podIP: "10.233.0.7",
      startTime: "2030-01-01T00:00:00.000Z",
      containers: [],
    };
    await Deno.writeTextFile(
      path,
      JSON.stringify({ version: 1, pods: [one, { ...one, pod: makePod("db") }] }),
    );
    assert.throws(() => makeProvider(path), /expected distinct pod IPs, found 10\.233\.0\.7/);
  });
});

Deno.test("a state file that cannot be written fails the create as retryable; the retry creates and reports the pod", async () => {
  await withStateFile(async (_path, dir) => {
    const provider = makeProvider(`${dir}/absent/pods.json`);
    const reported: string[] = [];
    const stop = new AbortController();
    provider.notifyPods(
      stop.signal,
      (pod) => reported.push(`${pod.metadata?.name} ${pod.status?.phase}`),
    );
    const error = await provider.createPod(makePod("web"), signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, /cannot write the state file/);
    assert.ok(isRetryable(error));
    assert.equal(await provider.getPod("default", "web", signal), undefined);
    Deno.mkdirSync(`${dir}/absent`);
    await provider.createPod(makePod("web"), signal);
    await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
    assert.deepEqual(reported, ["web Running"]);
    assert.deepEqual(savedNames(`${dir}/absent/pods.json`), ["web"]);
  });
});

Deno.test("encodeState and readStateFile round-trip", async () => {
  await withStateFile(async (path) => {
    const saved = [{
      pod: makePod("web"),
      ip: (10 << 24 >>> 0) + 5,
      startTime: Date.parse("2030-01-01T00:00:00.123Z"),
      containers: [{
        name: "app",
        kind: "app" as const,
        current: {
          image: "nginx",
          imageId: "sha256:00",
          containerId: "mock://uid-web/app",
          startedAt: Date.parse("2030-01-01T00:00:01.000Z"),
        },
        previous: {
          image: "nginx:old",
          imageId: "sha256:01",
          containerId: "mock://uid-web/app",
          startedAt: Date.parse("2030-01-01T00:00:00.123Z"),
          finishedAt: Date.parse("2030-01-01T00:00:01.000Z"),
          exitReason: "Completed",
        },
        restartCount: 1,
      }],
      retiredCpuNanoSeconds: 12,
    }];
    await Deno.writeTextFile(path, encodeState(saved));
    assert.deepEqual(readStateFile(path), saved);
  });
});

Deno.test("a pod's VM round-trips through the state file; a file without VMs gives running ones", async () => {
  await withStateFile(async (path) => {
    const vm = {
      id: "4b0c4f8e-0000-4000-8000-000000000001",
      power: "Running" as const,
      host: "mock-host-2",
      since: Date.parse("2030-01-01T00:00:05.000Z"),
      transition: {
        during: "Stopping" as const,
        until: Date.parse("2030-01-01T00:00:05.200Z"),
        power: "Stopped" as const,
        host: "mock-host-2",
      },
      diskGeneration: 3,
      restoredFrom: "snap-1",
      snapshots: [{
        id: "snap-1",
        name: "nightly",
        createdAt: Date.parse("2030-01-01T00:00:01.000Z"),
        readyAt: Date.parse("2030-01-01T00:00:01.200Z"),
        ready: true,
        diskGeneration: 1,
      }],
      operations: {
        start: 1,
        stop: 2,
        restart: 0,
        snapshot: 1,
        restore: 1,
        deleteSnapshot: 0,
        migrate: 1,
      },
    };
    const saved = [{
      pod: makePod("web"),
      ip: (10 << 24 >>> 0) + 5,
      startTime: Date.parse("2030-01-01T00:00:00.000Z"),
      containers: [],
      retiredCpuNanoSeconds: 0,
      vm,
    }];
    await Deno.writeTextFile(path, encodeState(saved));
    assert.deepEqual(readStateFile(path), saved);

    const { vm: _vm, ...withoutVm } = saved[0];
    await Deno.writeTextFile(path, encodeState([withoutVm]));
    assert.equal(readStateFile(path)[0].vm, undefined);
    const provider = makeProvider(path);
    const state = await provider.getVirtualMachineState(makePod("web"), signal);
    assert.deepEqual([state.power, state.diskGeneration], ["Running", 1]);
  });
});

Deno.test("volumes and their counts round-trip through the state file; a file without them holds none", async () => {
  await withStateFile(async (path) => {
    const volumes = [{
      id: "5c0c4f8e-0000-4000-8000-000000000001",
      name: "pvc-1",
      claim: "default/db",
      sizeBytes: 2 ** 30,
      accessModes: ["ReadWriteOnce"],
      diskOffering: "standard",
      createdAt: Date.parse("2030-01-01T00:00:01.000Z"),
      readyAt: Date.parse("2030-01-01T00:00:01.200Z"),
      attachedVm: "4b0c4f8e-0000-4000-8000-000000000001",
    }, {
      id: "5c0c4f8e-0000-4000-8000-000000000002",
      name: "pvc-2",
      claim: "default/web",
      sizeBytes: 2 ** 31,
      accessModes: ["ReadWriteOncePod"],
      diskOffering: "fast",
      createdAt: Date.parse("2030-01-01T00:00:02.000Z"),
      readyAt: Date.parse("2030-01-01T00:00:02.200Z"),
    }];
    const volumeOperations = { create: 2, delete: 0, expand: 1, attach: 1, detach: 0 };
    await Deno.writeTextFile(path, encodeState([], { volumes, volumeOperations }));
    assert.deepEqual(readState(path), { pods: [], volumes, volumeOperations });
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, pods: [] }));
    assert.deepEqual(readState(path), {
      pods: [],
      volumes: [],
      volumeOperations: { create: 0, delete: 0, expand: 0, attach: 0, detach: 0 },
    });
  });
});
