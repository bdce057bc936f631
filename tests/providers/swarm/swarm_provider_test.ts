// The swarm provider against a real Swarm (one dockerd for all steps, a node name per
// step): what the contract suite does not pin — restart policies and exit codes, restart
// counts, placement failures, a pod's containers on one network with its hostname, the
// host network, exec with stdin, TTY and resize, followed logs, and a restart that
// rebuilds the very pod the agent gave.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../../_harness/assert.ts";
import { withSwarm } from "../../_harness/swarm.ts";
import { InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import { podsEqual } from "../../../lib/pods/compare.ts";
import type { SwarmProvider } from "../../../providers/swarm/swarm_provider.ts";
import { busyboxPod, shContainer, swarmProviders } from "./_swarm_provider.ts";

const signal = new AbortController().signal;

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

async function podWhere(
  provider: SwarmProvider,
  name: string,
  check: (pod: Pod) => boolean,
  what: string,
): Promise<Pod> {
  return await eventually(`${name}: ${what}`, async () => {
    const pod = await provider.getPod("default", name, signal);
    return pod !== undefined && check(pod) ? pod : undefined;
  });
}

function text(chunks: Uint8Array[]): string {
  return new TextDecoder().decode(
    chunks.reduce((all, chunk) => new Uint8Array([...all, ...chunk]), new Uint8Array()),
  );
}

/** A writable that keeps what it was given. */
function collector(): { stream: WritableStream<Uint8Array>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream({ write: (chunk) => void chunks.push(chunk.slice()) }),
    text: () => text(chunks),
  };
}

Deno.test("swarm provider against a real Swarm", async (t) => {
  await withSwarm("provider", async (swarm) => {
    let step = 0;
    async function onNode<T>(
      body: (provider: SwarmProvider, nodeName: string, again: () => SwarmProvider) => Promise<T>,
    ): Promise<T> {
      const nodeName = `node-${step++}`;
      const providers = swarmProviders(swarm, nodeName);
      try {
        return await body(providers.create(), nodeName, () => providers.create());
      } finally {
        providers.stop();
      }
    }

    await t.step("restartPolicy Never and exit 3: pod Failed with exit code 3", async () => {
      await onNode(async (provider, node) => {
        await provider.createPod(
          busyboxPod("exit3", node, [shContainer("main", "sleep 1; exit 3")], {
            spec: { restartPolicy: "Never" },
          }),
          signal,
        );
        const pod = await podWhere(
          provider,
          "exit3",
          (p) => p.status?.phase === "Failed",
          "Failed",
        );
        const state = pod.status?.containerStatuses?.[0].state?.terminated;
        assertEquals([state?.exitCode, state?.reason], [3, "Error"]);
        assertEquals(pod.status?.containerStatuses?.[0].restartCount, 0);
      });
    });

    await t.step(
      "restartPolicy OnFailure: the restart count grows, last state exit 1",
      async () => {
        await onNode(async (provider, node) => {
          await provider.createPod(
            busyboxPod("crashy", node, [shContainer("main", "sleep 1; exit 1")], {
              spec: { restartPolicy: "OnFailure" },
            }),
            signal,
          );
          const pod = await podWhere(
            provider,
            "crashy",
            (p) => (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 2,
            "two restarts",
          );
          assertEquals(pod.status?.containerStatuses?.[0].lastState?.terminated?.exitCode, 1);
          assert(pod.status?.phase !== "Failed", `not terminal: ${pod.status?.phase}`);
        });
      },
    );

    await t.step("OnFailure and exit 0: Succeeded", async () => {
      await onNode(async (provider, node) => {
        await provider.createPod(
          busyboxPod("done", node, [shContainer("main", "echo done")], {
            spec: { restartPolicy: "OnFailure" },
          }),
          signal,
        );
        await podWhere(provider, "done", (p) => p.status?.phase === "Succeeded", "Succeeded");
      });
    });

    await t.step("a pod no Swarm node can take: Pending, Unschedulable, one event", async () => {
      const events: string[] = [];
      const swarmProviders_ = swarmProviders(swarm, "node-big");
      try {
        const provider = swarmProviders_.create({
          recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason} ${message}`),
        });
        await provider.createPod(
          busyboxPod("huge", "node-big", [
            shContainer("main", "sleep 3600", { resources: { requests: { memory: "100Ti" } } }),
          ]),
          signal,
        );
        const pod = await podWhere(
          provider,
          "huge",
          (p) => p.status?.containerStatuses?.[0].state?.waiting?.reason === "Unschedulable",
          "Unschedulable",
        );
        assertEquals(pod.status?.phase, "Pending");
        assertMatch(pod.status?.message ?? "", /no suitable node.*insufficient resources/);
        await eventually("the event", () => Promise.resolve(events.length > 0 ? true : undefined));
        assertEquals(events.length, 1);
        assertMatch(events[0], /^Warning FailedScheduling container main: Swarm cannot place/);
      } finally {
        swarmProviders_.stop();
      }
    });

    await t.step(
      "containers of a pod share its network: each resolves the other by name and has the pod's hostname",
      async () => {
        await onNode(async (provider, node) => {
          await provider.createPod(
            busyboxPod("duo", node, [
              shContainer("web", "exec sleep 3600"),
              shContainer(
                "probe",
                "hostname; until nslookup web >/tmp/out 2>&1; do sleep 0.5; done; grep -A1 'Name:' /tmp/out | tail -1; exec sleep 3600",
              ),
            ]),
            signal,
          );
          const pod = await podWhere(
            provider,
            "duo",
            (p) => p.status?.phase === "Running",
            "Running",
          );
          assertMatch(pod.status?.podIP ?? "", /^\d+\.\d+\.\d+\.\d+$/);
          assertEquals(pod.status?.hostIP, "127.0.0.1");
          const log = await eventually("the probe's lines", async () => {
            const stream = await provider.getContainerLogs(
              { namespace: "default", pod: "duo", container: "probe" },
              {},
              signal,
            );
            const lines = (await new Response(stream).text()).trim().split("\n");
            return lines.length >= 2 ? lines : undefined;
          });
          assertEquals(log[0], "duo");
          assertMatch(log[1], /^Address( 1)?:\s+\d+\.\d+\.\d+\.\d+/);
        });
      },
    );

    await t.step("a hostNetwork pod has the Swarm node's address as pod IP", async () => {
      await onNode(async (provider, node) => {
        await provider.createPod(
          busyboxPod("host", node, [shContainer("main", "exec sleep 3600")], {
            spec: { hostNetwork: true },
          }),
          signal,
        );
        const pod = await podWhere(
          provider,
          "host",
          (p) => p.status?.phase === "Running",
          "Running",
        );
        assertEquals([pod.status?.podIP, pod.status?.hostIP], ["127.0.0.1", "127.0.0.1"]);
      });
    });

    await t.step(
      "exec: output, stdin, exit codes (127 for an unknown command), TTY with resize",
      async () => {
        await onNode(async (provider, node) => {
          await provider.createPod(
            busyboxPod("box", node, [shContainer("main", "exec sleep 3600")]),
            signal,
          );
          await podWhere(provider, "box", (p) => p.status?.phase === "Running", "Running");
          const ref = { namespace: "default", pod: "box", container: "main" };

          const out = collector();
          const err = collector();
          const code = await provider.runInContainer(ref, {
            command: ["sh", "-c", "cat /etc/hostname; echo oops >&2; exit 4"],
            streams: { stdout: out.stream, stderr: err.stream, tty: false },
          }, signal);
          assertEquals([code, out.text(), err.text()], [4, "box\n", "oops\n"]);

          const echoed = collector();
          const stdin = new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new TextEncoder().encode("hello\nworld\n"));
              controller.close();
            },
          });
          assertEquals(
            await provider.runInContainer(ref, {
              command: ["sh", "-c", "wc -l"],
              streams: { stdin, stdout: echoed.stream, tty: false },
            }, signal),
            0,
          );
          assertEquals(echoed.text().trim(), "2");

          const missing = collector();
          assertEquals(
            await provider.runInContainer(ref, {
              command: ["no-such-command"],
              streams: { stdout: missing.stream, stderr: collector().stream, tty: false },
            }, signal),
            127,
          );

          const terminal = collector();
          async function* sizes() {
            yield { width: 91, height: 17 };
          }
          const ttyCode = await provider.runInContainer(ref, {
            command: ["sh", "-c", "sleep 1; stty size; tty"],
            streams: { stdout: terminal.stream, tty: true, resize: sizes() },
          }, signal);
          assertEquals(ttyCode, 0);
          assertMatch(terminal.text(), /^17 91\r\n\/dev\/pts\/\d+\r\n$/);

          await assertRejects(
            () =>
              provider.runInContainer({ ...ref, container: "nope" }, {
                command: ["true"],
                streams: { tty: false },
              }, signal),
            NotFoundError,
          );
        });
      },
    );

    await t.step("exec in a container that has ended: InvalidInputError", async () => {
      await onNode(async (provider, node) => {
        await provider.createPod(
          busyboxPod("ended", node, [shContainer("main", "true")], {
            spec: { restartPolicy: "Never" },
          }),
          signal,
        );
        await podWhere(provider, "ended", (p) => p.status?.phase === "Succeeded", "Succeeded");
        await assertRejects(
          () =>
            provider.runInContainer({ namespace: "default", pod: "ended", container: "main" }, {
              command: ["true"],
              streams: { tty: false },
            }, signal),
          InvalidInputError,
        );
      });
    });

    await t.step("a followed log streams new lines and ends when the container does", async () => {
      await onNode(async (provider, node) => {
        await provider.createPod(
          busyboxPod("ticker", node, [
            shContainer("main", "for i in 1 2 3 4; do echo tick $i; sleep 1; done"),
          ], { spec: { restartPolicy: "Never" } }),
          signal,
        );
        await podWhere(provider, "ticker", (p) => p.status?.phase !== "Pending", "started");
        const started = Date.now();
        const stream = await provider.getContainerLogs(
          { namespace: "default", pod: "ticker", container: "main" },
          { follow: true, timestamps: true },
          AbortSignal.timeout(30_000),
        );
        const lines = (await new Response(stream).text()).trim().split("\n");
        assertEquals(lines.map((line) => line.slice(line.indexOf(" ") + 1)), [
          "tick 1",
          "tick 2",
          "tick 3",
          "tick 4",
        ]);
        for (const line of lines) assertMatch(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
        assert(Date.now() - started < 20_000, "the followed log ended with the container");
      });
    });

    await t.step(
      "after a restart the provider rebuilds the pod it was given (env from the service), so the agent changes nothing",
      async () => {
        await onNode(async (provider, node, again) => {
          const pod = busyboxPod("keep", node, [
            shContainer("main", "echo $(GREETING) $GREETING; exec sleep 3600", {
              env: [{ name: "GREETING", value: "hi there" }, { name: "EMPTY", value: "" }],
              resources: { limits: { cpu: "250m", memory: "64Mi" } },
              ports: [{ containerPort: 8080 }],
              workingDir: "/tmp",
            }),
            shContainer("side", "exec sleep 3600"),
          ], {
            spec: { restartPolicy: "Always", tolerations: [{ key: "a", operator: "Exists" }] },
          });
          pod.metadata!.labels = { app: "keep" };
          pod.metadata!.annotations = { note: "kept" };
          await provider.createPod(pod, signal);
          await podWhere(provider, "keep", (p) => p.status?.phase === "Running", "Running");
          const stream = await provider.getContainerLogs(
            { namespace: "default", pod: "keep", container: "main" },
            {},
            signal,
          );
          assertEquals(await new Response(stream).text(), "hi there hi there\n");
          const restarted = again();
          const [listed] = await restarted.getPods(signal);
          assert(podsEqual(listed, pod), "the rebuilt pod equals the one given");
          assertEquals(listed.metadata?.uid, pod.metadata?.uid);
          await restarted.updatePod(pod, signal); // a no-op: same services, same tasks
          const after = await podWhere(
            restarted,
            "keep",
            (p) => p.status?.phase === "Running",
            "Running",
          );
          assertEquals(after.status?.containerStatuses?.map((s) => s.restartCount), [0, 0]);
        });
      },
    );
  });
});
