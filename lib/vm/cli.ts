/**
 * `vkedge vm …`: the VM user's commands, as virtctl is KubeVirt's. They only edit the
 * custom resources through the Kubernetes API (the agent serving the VirtualMachine does
 * the work), so they run anywhere a kubeconfig reaches the cluster, also as a kubectl
 * plugin (`kubectl vkedge vm …` with `kubectl-vkedge` on the PATH).
 *
 * Power commands never rewrite the run strategy silently: `start` of a Halted VM and
 * `stop` of an Always VM change `runStrategy` and say so; every other power command is a
 * one-off request (`spec.action`) that keeps the strategy and is acknowledged in status.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { KubeClient, KubeConfigError, KubeNotFoundError, loadClientConfig } from "../kube/mod.ts";
import { errorMessage } from "../errors.ts";
import { sleep } from "../sleep.ts";
import { parseDuration } from "../duration.ts";
import {
  RUN_STRATEGIES,
  VIRTUAL_MACHINES,
  type VirtualMachine,
  type VirtualMachineMigrationObject,
  type VirtualMachineRestoreObject,
  type VirtualMachineSnapshotObject,
  VM_API_VERSION,
  VM_MIGRATIONS,
  VM_RESTORES,
  VM_SNAPSHOTS,
} from "./types.ts";
import { conditionOf, type ResourceDescriptor } from "./types.ts";

/** Thrown for a bad command line; the caller prints it and exits 2. */
export class VmUsageError extends Error {
  override name = "VmUsageError";
}

const VERBS = ["start", "stop", "restart", "snapshot", "restore", "migrate"] as const;
type Verb = typeof VERBS[number];

/** The `vkedge vm --help` text. */
export const VM_USAGE = `Usage: vkedge vm start|stop|restart|snapshot|restore|migrate NAME [flags]
       kubectl vkedge vm ...   (with kubectl-vkedge on the PATH, see the README)

  start NAME                 power on (runStrategy Halted becomes Always; others get a Start request)
  stop NAME [--force]        power off (runStrategy Always becomes Halted; others get a Stop request);
                             --force cuts the power, also for a VM stuck Stopping
  restart NAME [--force]     reboot once (acknowledged once in status.lastAction)
  snapshot NAME [--name S]   take a VirtualMachineSnapshot (default name NAME-YYYYMMDDhhmmss)
  restore NAME --snapshot S [--name R]
                             restore the stopped VM from VirtualMachineSnapshot S
  migrate NAME [--target-host H] [--name M]
                             move the running VM to host H (default: the IaaS picks)

Flags:
  -n, --namespace=NS         namespace (default: the kubeconfig's, else default)
      --kubeconfig=FILE      kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)
      --wait                 wait until the agent reports the outcome; exit 1 if it failed
      --timeout=DURATION     how long --wait waits (default 5m)
  -h, --help                 show this help

Exit status: 0 done (or accepted), 1 failed or timed out, 2 bad command line.`;

const namePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const objectName = (what: string) =>
  z.string().regex(namePattern, `${what}: expected a lowercase DNS name (a-z, 0-9, '-', '.')`)
    .max(253, `${what}: at most 253 characters`);

const commandSchema = z.object({
  verb: z.enum(VERBS, { error: `expected one of ${VERBS.join(", ")}` }),
  name: objectName("NAME"),
  namespace: objectName("--namespace").optional(),
  kubeconfig: z.string().optional(),
  force: z.boolean(),
  wait: z.boolean(),
  timeoutMs: z.number().positive("--timeout: expected a duration such as 5m"),
  snapshot: objectName("--snapshot").optional(),
  objectName: objectName("--name").optional(),
  targetHost: z.string().min(1).max(255).optional(),
});

/** A parsed `vkedge vm` command. */
export type VmCommand = z.infer<typeof commandSchema>;

/** Parses the arguments after `vm`; `undefined` for `--help`. */
export function parseVmCommand(args: string[]): VmCommand | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        namespace: { type: "string", short: "n" },
        kubeconfig: { type: "string" },
        force: { type: "boolean" },
        wait: { type: "boolean" },
        timeout: { type: "string" },
        snapshot: { type: "string" },
        name: { type: "string" },
        "target-host": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new VmUsageError(errorMessage(error).split("\n")[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length !== 2) {
    throw new VmUsageError(
      `expected a command and a VirtualMachine name, found ${
        positionals.length === 0 ? "nothing" : `'${positionals.join(" ")}'`
      }`,
    );
  }
  const timeoutText = values.timeout ?? "5m";
  const result = commandSchema.safeParse({
    verb: positionals[0],
    name: positionals[1],
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
    force: values.force ?? false,
    wait: values.wait ?? false,
    timeoutMs: parseDuration(timeoutText) ?? -1,
    snapshot: values.snapshot,
    objectName: values.name,
    targetHost: values["target-host"],
  });
  if (!result.success) {
    throw new VmUsageError(result.error.issues.map((issue) => issue.message).join("; "));
  }
  const command = result.data;
  if (command.verb === "restore" && command.snapshot === undefined) {
    throw new VmUsageError("restore: --snapshot=NAME is required (a VirtualMachineSnapshot)");
  }
  if (command.force && command.verb !== "stop" && command.verb !== "restart") {
    throw new VmUsageError(`--force applies to stop and restart, not ${command.verb}`);
  }
  if (command.targetHost !== undefined && command.verb !== "migrate") {
    throw new VmUsageError("--target-host applies to migrate only");
  }
  return command;
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

interface Runner {
  client: KubeClient;
  namespace: string;
  out: (line: string) => void;
}

async function getVm(runner: Runner, name: string): Promise<VirtualMachine> {
  try {
    return await runner.client.resource<VirtualMachine>(VIRTUAL_MACHINES, runner.namespace)
      .get(name);
  } catch (error) {
    if (error instanceof KubeNotFoundError) {
      throw new Error(
        `VirtualMachine ${runner.namespace}/${name} not found (kubectl get vm -n ${runner.namespace})`,
      );
    }
    throw error;
  }
}

/** Sets `runStrategy`, failing if someone changed it since it was read. */
async function setStrategy(runner: Runner, vm: VirtualMachine, from: string, to: string) {
  const spec = vm.spec as { runStrategy?: string };
  const patch = spec.runStrategy === undefined
    ? [{ op: "add", path: "/spec/runStrategy", value: to }]
    : [{ op: "test", path: "/spec/runStrategy", value: from }, {
      op: "replace",
      path: "/spec/runStrategy",
      value: to,
    }];
  await runner.client.resource<VirtualMachine>(VIRTUAL_MACHINES, runner.namespace)
    .patch(vm.metadata!.name!, patch, { type: "json" });
  runner.out(`virtualmachine/${vm.metadata!.name}: runStrategy ${from} → ${to}`);
}

/** Writes a one-off power request; returns its id. */
async function request(
  runner: Runner,
  vm: VirtualMachine,
  type: "Start" | "Stop" | "Restart",
  force: boolean,
): Promise<string> {
  const id = `${type.toLowerCase()}-${stamp(new Date())}-${crypto.randomUUID().slice(0, 8)}`;
  await runner.client.resource<VirtualMachine>(VIRTUAL_MACHINES, runner.namespace).patch(
    vm.metadata!.name!,
    { spec: { action: { id, type, ...(force ? { force: true } : {}) } } },
    { type: "merge" },
  );
  runner.out(`virtualmachine/${vm.metadata!.name}: ${type} requested (id ${id})`);
  return id;
}

/** Polls `probe` until it gives a verdict or the timeout passes. */
async function waitFor(
  timeoutMs: number,
  what: string,
  probe: () => Promise<{ ok: boolean; message: string } | undefined>,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const verdict = await probe();
    if (verdict?.ok) return verdict.message;
    if (verdict) throw new Error(verdict.message);
    await sleep(1000);
  }
  throw new Error(`${what}: no outcome within the timeout; see kubectl describe`);
}

async function power(runner: Runner, command: VmCommand): Promise<string | undefined> {
  const vm = await getVm(runner, command.name);
  const strategy = (vm.spec as { runStrategy?: string }).runStrategy ?? "Always";
  if (!(RUN_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new Error(`VirtualMachine ${command.name} has an unknown runStrategy ${strategy}`);
  }
  if (command.verb === "start" && strategy === "Halted") {
    await setStrategy(runner, vm, strategy, "Always");
    return undefined;
  }
  if (command.verb === "stop" && strategy === "Always") {
    await setStrategy(runner, vm, strategy, "Halted");
    if (command.force) {
      return await request(runner, await getVm(runner, command.name), "Stop", true);
    }
    return undefined;
  }
  const type = command.verb === "start" ? "Start" : command.verb === "stop" ? "Stop" : "Restart";
  return await request(runner, vm, type, command.force);
}

async function create<T>(
  runner: Runner,
  descriptor: ResourceDescriptor,
  kind: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<T> {
  const object = {
    apiVersion: VM_API_VERSION,
    kind,
    metadata: { name, namespace: runner.namespace },
    spec,
  };
  const created = await runner.client.resource<T & { metadata?: { name?: string } }>(
    descriptor,
    runner.namespace,
  ).create(object as unknown as T & { metadata?: { name?: string } });
  runner.out(`${kind.toLowerCase()}/${name} created`);
  return created;
}

/** Runs one command; resolves with the exit status. */
export async function runVmCommand(
  command: VmCommand,
  out: (line: string) => void = console.log,
): Promise<number> {
  let config;
  try {
    config = await loadClientConfig({ path: command.kubeconfig });
  } catch (error) {
    if (error instanceof KubeConfigError) throw new VmUsageError(`kubeconfig: ${error.message}`);
    throw error;
  }
  const namespace = command.namespace ?? config.namespace;
  const runner: Runner = { client: new KubeClient(config), namespace, out };
  const objectName = command.objectName ?? `${command.name}-${stamp(new Date())}`;
  const { verb, name, timeoutMs } = command;
  switch (verb) {
    case "start":
    case "stop":
    case "restart": {
      const id = await power(runner, command);
      if (!command.wait) return 0;
      const wanted = verb === "stop" ? ["Stopped"] : ["Running"];
      const message = await waitFor(timeoutMs, `${verb} ${name}`, async () => {
        const vm = await getVm(runner, name);
        const last = vm.status?.lastAction;
        if (id !== undefined) {
          if (last?.id !== id || last.phase === "InProgress") return undefined;
          if (last.phase !== "Succeeded") return { ok: false, message: `${verb}: ${last.message}` };
        }
        const status = vm.status?.printableStatus ?? "";
        return wanted.includes(status) ? { ok: true, message: `${name} is ${status}` } : undefined;
      });
      out(message);
      return 0;
    }
    case "snapshot": {
      await create(runner, VM_SNAPSHOTS, "VirtualMachineSnapshot", objectName, {
        virtualMachineName: name,
      });
      if (!command.wait) return 0;
      out(
        await waitFor(timeoutMs, `snapshot ${objectName}`, async () => {
          const snapshot = await runner.client.resource<VirtualMachineSnapshotObject>(
            VM_SNAPSHOTS,
            namespace,
          ).get(objectName);
          const phase = snapshot.status?.phase;
          if (phase === "Succeeded") return { ok: true, message: `${objectName} is ready to use` };
          if (phase === "Failed") {
            return { ok: false, message: `snapshot failed: ${snapshot.status?.error?.message}` };
          }
          return undefined;
        }),
      );
      return 0;
    }
    case "restore": {
      await create(runner, VM_RESTORES, "VirtualMachineRestore", objectName, {
        virtualMachineName: name,
        virtualMachineSnapshotName: command.snapshot,
      });
      if (!command.wait) return 0;
      out(
        await waitFor(timeoutMs, `restore ${objectName}`, async () => {
          const restore = await runner.client.resource<VirtualMachineRestoreObject>(
            VM_RESTORES,
            namespace,
          ).get(objectName);
          if (restore.status?.complete) return { ok: true, message: `${name} restored` };
          const failure = conditionOf(restore.status?.conditions, "Failure");
          if (failure?.status === "True") {
            return { ok: false, message: `restore failed: ${failure.message}` };
          }
          return undefined;
        }),
      );
      return 0;
    }
    case "migrate": {
      await create(runner, VM_MIGRATIONS, "VirtualMachineMigration", objectName, {
        virtualMachineName: name,
        ...(command.targetHost ? { targetHost: command.targetHost } : {}),
      });
      if (!command.wait) return 0;
      out(
        await waitFor(timeoutMs, `migration ${objectName}`, async () => {
          const migration = await runner.client.resource<VirtualMachineMigrationObject>(
            VM_MIGRATIONS,
            namespace,
          ).get(objectName);
          const phase = migration.status?.phase;
          if (phase === "Succeeded") {
            return { ok: true, message: migration.status?.message ?? "migrated" };
          }
          if (phase === "Failed") {
            return { ok: false, message: `migration failed: ${migration.status?.message}` };
          }
          return undefined;
        }),
      );
      return 0;
    }
  }
}

/** `vkedge vm ARGS`: parses, runs, prints; resolves with the exit status. */
export async function vmMain(args: string[]): Promise<number> {
  let command;
  try {
    command = parseVmCommand(args);
  } catch (error) {
    if (!(error instanceof VmUsageError)) throw error;
    console.error(`vkedge vm: ${error.message}\nRun 'vkedge vm --help' for usage.`);
    return 2;
  }
  if (command === undefined) {
    console.log(VM_USAGE);
    return 0;
  }
  try {
    return await runVmCommand(command);
  } catch (error) {
    if (error instanceof VmUsageError) {
      console.error(`vkedge vm: ${error.message}`);
      return 2;
    }
    console.error(`vkedge vm ${command.verb} ${command.name}: ${errorMessage(error)}`);
    return 1;
  }
}
