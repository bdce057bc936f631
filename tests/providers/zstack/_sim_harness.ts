/**
 * What the tests of the zstack provider against the ZStack simulator share: a simulator
 * per test (jobs and boots of a few tens of milliseconds, job locations naming an address
 * the client must rewrite), a provider over it with short backoffs and its pod updates
 * and events collected, a pod it can run, and polling until something holds.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { queryReplySchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { ZStackClient } from "../../../providers/zstack/client.ts";
import { parseZStackConfig, type ZStackConfig } from "../../../providers/zstack/config.ts";
import { buildQueryString, eq } from "../../../providers/zstack/query.ts";
import { ZStackProvider } from "../../../providers/zstack/zstack_provider.ts";
import { loadSeed, type SeedData, type SeedInput, startSimulator } from "../../zstack_sim/mod.ts";

/** A running simulator. */
export type Simulator = Awaited<ReturnType<typeof startSimulator>>;

/** The node every provider of these tests serves unless told otherwise. */
export const nodeName = "edge-1";

/** A signal that never aborts. */
export const signal: AbortSignal = new AbortController().signal;

/** Options of {@linkcode withSimulator}. */
export interface SimulatorTestOptions {
  /** Least duration of a job (default 20 ms). */
  jobDurationMs?: number;
  /** How long a VM boots (default 40 ms). */
  vmBootMs?: number;
  /** How long other transitions take (default: the job duration). */
  transitionMs?: number;
  /** Session lifetime (default 7200 s). */
  sessionTimeoutSeconds?: number;
  /** How long the KVM agent waits for a guest that ignores a graceful stop. */
  guestShutdownTimeoutMs?: number;
  /** Seed instead of the default inventory (two hosts in one cluster). */
  seed?: SeedInput;
  /** ZStack's `dataVolume.deleteOnVmDestroy` (default false). */
  dataVolumeDeleteOnVmDestroy?: boolean;
}

/** Runs `work` against a fresh simulator and closes it afterwards. */
export async function withSimulator(
  work: (sim: Simulator) => Promise<void>,
  options: SimulatorTestOptions = {},
): Promise<void> {
  const sim = await startSimulator({
    port: 0,
    jobDurationMs: options.jobDurationMs ?? 20,
    vmBootMs: options.vmBootMs ?? 40,
    transitionMs: options.transitionMs,
    sessionTimeoutSeconds: options.sessionTimeoutSeconds ?? 7200,
    guestShutdownTimeoutMs: options.guestShutdownTimeoutMs,
    seed: options.seed,
    dataVolumeDeleteOnVmDestroy: options.dataVolumeDeleteOnVmDestroy,
    // Job locations name an internal address the client cannot reach: it must rewrite them.
    locationBase: "http://127.0.0.2:9/zstack",
  });
  try {
    await work(sim);
  } finally {
    await sim.close();
  }
}

/** The provider configuration for `sim`, with `extra` fields. */
export function configFor(sim: Simulator, extra: Record<string, unknown> = {}): ZStackConfig {
  return parseZStackConfig({
    endpoint: sim.url,
    auth: { account: { name: "admin", passwordEnv: "UNUSED_IN_THESE_TESTS" } },
    clusterName: "test",
    placement: { zone: "zone-1", cluster: "cluster-1" },
    networks: { default: ["l3-default"] },
    pollIntervalSeconds: 0.05,
    ...extra,
  });
}

/**
 * The default inventory (one zone, cluster-1 with host-1 and host-2, …) with its hosts
 * replaced by what `hosts` makes of them, e.g. only the first one.
 */
export async function seedWithHosts(
  hosts: (defaults: SeedData["hosts"]) => SeedData["hosts"],
): Promise<SeedInput> {
  const seed = await loadSeed();
  return { ...seed, hosts: hosts(seed.hosts) };
}

/** A provider over the simulator and what it told the agent. */
export interface Harness {
  /** The provider. */
  provider: ZStackProvider;
  /** Its client, for looking at ZStack directly. */
  client: ZStackClient;
  /** Stops the provider. */
  stop: AbortController;
  /** Every pod the provider notified. */
  updates: Pod[];
  /** `reason: message` of the events the provider recorded about pods. */
  events: string[];
}

/** A client of `sim` with short backoffs and poll pauses. */
export function clientFor(sim: Simulator): ZStackClient {
  return new ZStackClient({
    endpoint: sim.url,
    credentials: { kind: "account", accountName: "admin", password: "password" },
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 50,
    maxPollIntervalMs: 50,
    retries: 2,
    requestTimeoutMs: 2_000,
  });
}

/** A provider over `sim` for `options.node`, notifying pod updates from the start. */
export function providerFor(
  sim: Simulator,
  options: { node?: string; config?: Record<string, unknown> } = {},
): Harness {
  const stop = new AbortController();
  const client = clientFor(sim);
  const events: string[] = [];
  const updates: Pod[] = [];
  const provider = new ZStackProvider(configFor(sim, options.config), client, {
    nodeName: options.node ?? nodeName,
    operatingSystem: "linux",
    internalIp: "10.1.0.1",
    daemonPort: 10250,
    signal: stop.signal,
    recordEvent: (pod, type, reason, message) =>
      events.push(`${pod.metadata?.name} ${type} ${reason}: ${message}`),
  });
  provider.notifyPods(stop.signal, (pod) => updates.push(pod));
  return { provider, client, stop, updates, events };
}

/** A pod of one container running `zstack/ubuntu-22.04` with 2 vCPUs and 2 GiB. */
export function podOf(name: string, overrides: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    metadata: {
      namespace: "default",
      name,
      uid: crypto.randomUUID(),
      labels: { app: name },
      annotations: { note: "kept across restarts" },
    },
    spec: {
      nodeName,
      containers: [{
        name: "main",
        image: "zstack/ubuntu-22.04",
        command: ["/bin/sleep", "infinity"],
        env: [{ name: "GREETING", value: "hello" }],
        resources: { limits: { cpu: "2", memory: "2Gi" } },
      }],
      ...overrides,
    },
  };
}

/** Polls `probe` every 25 ms until it answers something, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The VMs named `name`, as ZStack lists them. */
export async function vmsNamed(
  client: ZStackClient,
  name: string,
): Promise<Array<{ uuid: string; state: string; cpuNum?: number; memorySize?: number }>> {
  const reply = await client.get("/v1/vm-instances", {
    query: buildQueryString({ conditions: [eq("name", name)] }),
    schema: queryReplySchema(vmInstanceSchema),
    signal,
  });
  return reply.inventories;
}
