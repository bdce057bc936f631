/**
 * The provider contract suite: one set of behavioural tests that every provider's test
 * module runs against its own backend (`providerContract("mock", setUp)`), so each new
 * provider gets them for free. They pin what the agent relies on: create, get, list,
 * update and delete converge when repeated; unknown pods are `NotFoundError` (or
 * `undefined` from the getters), a second pod under a taken name `AlreadyExistsError`, a
 * pod the backend cannot run `InvalidInputError`; notifications after create and delete;
 * every log option; and a new provider instance over the same backend (an agent restart)
 * finds the pods by listing.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  AlreadyExistsError,
  hasContainerLogs,
  hasPodNotifier,
  InvalidInputError,
  isAlreadyExists,
  NotFoundError,
  type Provider,
} from "../../lib/provider.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../_harness/assert.ts";

/** One backend for one contract test, with the provider under test over it. */
export interface ContractBackend {
  /** The provider under test, over a fresh backend. */
  provider: Provider;
  /** A new provider instance over the same backend, as after an agent restart. */
  restart(): Promise<Provider>;
  /** A pod this provider can run; `uid` distinct per call unless given. */
  pod(name: string, options?: { uid?: string }): Pod;
  /** A pod the provider must refuse as invalid input. */
  invalidPod(name: string): Pod;
  /** Stops every provider instance and the backend. */
  close(): Promise<void>;
  /** How long a pod may take to run (default 5 s). */
  timeoutMs?: number;
}

const signal = new AbortController().signal;

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

function keysOf(pods: Pod[]): string[] {
  return pods.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`).sort();
}

async function running(backend: ContractBackend, pod: Pod): Promise<Pod> {
  const { namespace, name } = pod.metadata!;
  return await eventually(`${name} Running`, async () => {
    const current = await backend.provider.getPod(namespace!, name!, signal);
    return current?.status?.phase === "Running" ? current : undefined;
  }, backend.timeoutMs ?? 5_000);
}

/** Registers the contract tests for provider `name`; `setUp` makes a fresh backend per test. */
export function providerContract(name: string, setUp: () => Promise<ContractBackend>): void {
  function contractTest(title: string, body: (backend: ContractBackend) => Promise<void>): void {
    Deno.test(`contract ${name}: ${title}`, async () => {
      const backend = await setUp();
      try {
        await body(backend);
      } finally {
        await backend.close();
      }
    });
  }

  contractTest("a created pod is got and listed with its UID and a status", async (backend) => {
    const { provider } = backend;
    const pod = backend.pod("web");
    await provider.createPod(pod, signal);
    const got = await running(backend, pod);
    assertEquals(got.metadata?.uid, pod.metadata?.uid);
    assertEquals(got.spec?.containers?.[0]?.name, pod.spec?.containers[0].name);
    assert((got.status?.containerStatuses?.length ?? 0) >= 1, "container statuses");
    assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);
    const status = await provider.getPodStatus("default", "web", signal);
    assertEquals(status?.phase, "Running");
    assertEquals(status?.podIP, got.status?.podIP);
  });

  contractTest("create, update and delete converge when repeated", async (backend) => {
    const { provider } = backend;
    const pod = backend.pod("web");
    await provider.createPod(pod, signal);
    await provider.createPod(pod, signal).catch((error) => {
      if (!isAlreadyExists(error)) throw error; // refusing the repeat is as good as adopting it
    });
    await running(backend, pod);
    assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);

    const labelled: Pod = {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, tier: "front" } },
    };
    await provider.updatePod(labelled, signal);
    await provider.updatePod(labelled, signal);
    const updated = await provider.getPod("default", "web", signal);
    assertEquals(updated?.metadata?.labels?.tier, "front");
    assertEquals(updated?.metadata?.uid, pod.metadata?.uid);

    await provider.deletePod(labelled, signal);
    await eventually("web gone", async () => {
      const listed = await provider.getPods(signal);
      const left = listed.filter((listedPod) =>
        listedPod.metadata?.name === "web" && !["Succeeded", "Failed"].includes(
          listedPod.status?.phase ?? "",
        )
      );
      return left.length === 0 ? true : undefined;
    }, backend.timeoutMs ?? 5_000);
    await assertRejects(() => provider.deletePod(labelled, signal), NotFoundError);
  });

  contractTest(
    "unknown pods: getters answer undefined, update and delete NotFoundError",
    async (backend) => {
      const { provider } = backend;
      const ghost = backend.pod("ghost");
      assertEquals(await provider.getPod("default", "ghost", signal), undefined);
      assertEquals(await provider.getPodStatus("default", "ghost", signal), undefined);
      await assertRejects(() => provider.updatePod(ghost, signal), NotFoundError);
      await assertRejects(() => provider.deletePod(ghost, signal), NotFoundError);
    },
  );

  contractTest(
    "a second pod under a taken name is AlreadyExistsError; bad input InvalidInputError",
    async (backend) => {
      const { provider } = backend;
      await provider.createPod(backend.pod("web", { uid: "uid-first" }), signal);
      await assertRejects(
        () => provider.createPod(backend.pod("web", { uid: "uid-second" }), signal),
        AlreadyExistsError,
      );
      await assertRejects(
        () => provider.createPod(backend.invalidPod("bad"), signal),
        InvalidInputError,
      );
      assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);
      assertEquals((await provider.getPod("default", "web", signal))?.metadata?.uid, "uid-first");
    },
  );

  contractTest(
    "notifications follow a pod from creation to its terminal status after delete",
    async (backend) => {
      const { provider } = backend;
      if (!hasPodNotifier(provider)) {
        console.log(`skipped: provider ${name} has no PodNotifier (the agent polls it)`);
        return;
      }
      const seen: Pod[] = [];
      const stop = new AbortController();
      provider.notifyPods(stop.signal, (pod) => seen.push(pod));
      const pod = backend.pod("web");
      await provider.createPod(pod, signal);
      const timeoutMs = backend.timeoutMs ?? 5_000;
      await eventually("a Running notification", () =>
        Promise.resolve(
          seen.find((seenPod) =>
            seenPod.metadata?.uid === pod.metadata?.uid && seenPod.status?.phase === "Running"
          ),
        ), timeoutMs);
      await provider.deletePod(pod, signal);
      const terminal = await eventually("a terminal notification", () =>
        Promise.resolve(
          seen.find((seenPod) => ["Succeeded", "Failed"].includes(seenPod.status?.phase ?? "")),
        ), timeoutMs);
      assertEquals(terminal.metadata?.uid, pod.metadata?.uid);
      const count = seen.length;
      stop.abort();
      await provider.createPod(backend.pod("after"), signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertEquals(seen.length, count, "no notification after the signal aborted");
    },
  );

  contractTest(
    "logs honour tail, limitBytes, timestamps, sinceTime, previous and unknown names",
    async (backend) => {
      const { provider } = backend;
      if (!hasContainerLogs(provider)) {
        console.log(`skipped: provider ${name} has no ContainerLogs`);
        return;
      }
      const pod = backend.pod("web");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const container = pod.spec!.containers[0].name;
      const ref = { namespace: "default", pod: "web", container };
      const full = await readAll(await provider.getContainerLogs(ref, {}, signal));
      const lines = full.trimEnd().split("\n");
      assert(
        full.endsWith("\n") && lines.length >= 1,
        `a log of whole lines, found ${JSON.stringify(full)}`,
      );
      const tail = await readAll(await provider.getContainerLogs(ref, { tail: 1 }, signal));
      assertEquals(tail, `${lines.at(-1)}\n`);
      const limited = await readAll(
        await provider.getContainerLogs(ref, { limitBytes: 5 }, signal),
      );
      assertEquals(limited, full.slice(0, 5));
      const stamped = await readAll(
        await provider.getContainerLogs(ref, { timestamps: true, tail: 1 }, signal),
      );
      assertMatch(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
      assertEquals(stamped.slice(stamped.indexOf(" ") + 1), tail);
      const future = new Date(Date.now() + 3_600_000);
      assertEquals(
        await readAll(await provider.getContainerLogs(ref, { sinceTime: future }, signal)),
        "",
      );
      await assertRejects(
        () => provider.getContainerLogs(ref, { previous: true }, signal),
        InvalidInputError,
      );
      await assertRejects(
        () => provider.getContainerLogs({ ...ref, container: "no-such-container" }, {}, signal),
        NotFoundError,
      );
      await assertRejects(
        () => provider.getContainerLogs({ ...ref, pod: "ghost" }, {}, signal),
        NotFoundError,
      );
    },
  );

  contractTest(
    "a new instance over the same backend finds the pods by listing and can delete them",
    async (backend) => {
      const pods = [backend.pod("one"), backend.pod("two")];
      for (const pod of pods) await backend.provider.createPod(pod, signal);
      for (const pod of pods) await running(backend, pod);
      const again = await backend.restart();
      const listed = await again.getPods(signal);
      assertEquals(keysOf(listed), ["default/one", "default/two"]);
      assertEquals(
        listed.map((pod) => pod.metadata?.uid).sort(),
        pods.map((pod) => pod.metadata?.uid).sort(),
      );
      const one = await again.getPod("default", "one", signal);
      assertEquals(one?.status?.phase, "Running");
      await again.deletePod(pods[0], signal);
      assertEquals(
        keysOf((await again.getPods(signal)).filter((pod) => pod.status?.phase === "Running")),
        ["default/two"],
      );
    },
  );
}
