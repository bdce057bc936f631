/**
 * Pods and their events, as the end-to-end tests create and read them with
 * kubectl.
 *
 * @module
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "./cluster.ts";

/** The toleration of the agent's default provider taint. */
export const PROVIDER_TOLERATION = {
  key: "virtual-kubelet.io/provider",
  operator: "Exists",
  effect: "NoSchedule",
};

/** A pod spec that the scheduler can only place on `nodeName`. */
export function podSpec(
  nodeName: string,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
): NonNullable<Pod["spec"]> {
  return {
    nodeSelector: { "kubernetes.io/hostname": nodeName },
    tolerations: [PROVIDER_TOLERATION],
    containers: [{ name: "app", image: "nginx:1.27" }],
    ...extra,
  };
}

/** A pod named `name` for `nodeName`. */
export function podManifest(
  name: string,
  nodeName: string,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: podSpec(nodeName, extra) };
}

/** `kubectl apply` of one object in `ns`. */
export async function apply(ns: string, object: unknown): Promise<void> {
  await kubectl(["apply", "-n", ns, "-f", "-"], { stdin: JSON.stringify(object) });
}

/** The pod as the API server has it. */
export async function getPod(ns: string, name: string): Promise<Pod> {
  return await kubectlJson<Pod>(["get", "pod", name, "-n", ns]);
}

/** Whether the API server still has the pod. */
export async function podExists(ns: string, name: string): Promise<boolean> {
  return (await kubectlResult(["get", "pod", name, "-n", ns])).code === 0;
}

/** Whether the pod is Running and Ready. */
export function isRunning(pod: Pod): boolean {
  return pod.status?.phase === "Running" &&
    pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

/** Waits until the pod is Running and Ready, and returns it. */
export async function waitRunning(ns: string, name: string, timeoutMs = 30_000): Promise<Pod> {
  await waitFor(`pod ${ns}/${name} Running`, async () => isRunning(await getPod(ns, name)), {
    timeoutMs,
  });
  return await getPod(ns, name);
}

/** The events about one pod. */
export async function podEvents(ns: string, pod: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>([
    "get",
    "events",
    "-n",
    ns,
    "--field-selector",
    `involvedObject.name=${pod}`,
  ]);
  return list.items;
}

/** Waits for an event with `reason` on the pod that satisfies `check` (default: any). */
export async function waitForEvent(
  ns: string,
  pod: string,
  reason: string,
  check: (event: Event) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<Event> {
  let found: Event | undefined;
  await waitFor(`event ${reason} on ${ns}/${pod}`, async () => {
    found = (await podEvents(ns, pod)).find((e) => e.reason === reason && check(e));
    return found !== undefined;
  }, { timeoutMs });
  return found!;
}

/** `kubectl run NAME --image=nginx:1.27` bound to `nodeName`, waited for until Running. */
export async function runOnNode(ns: string, name: string, nodeName: string): Promise<Pod> {
  await kubectl([
    "run",
    name,
    "-n",
    ns,
    "--image=nginx:1.27",
    `--overrides=${JSON.stringify({ spec: { nodeName } })}`,
  ]);
  return await waitRunning(ns, name);
}
