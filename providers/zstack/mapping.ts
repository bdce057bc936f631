/**
 * Pure functions between pods and ZStack VMs: validation of a pod, the VM's identity
 * (uuid from the pod UID, name, ownership tags), its size, its cloud-init user data, the
 * pod spec remembered in the VM description, and the pod status read back from a VM.
 *
 * Remembered spec: the fields the agent compares (containers, labels, annotations,
 * tolerations, activeDeadlineSeconds) plus namespace, name and uid are stored in the VM
 * `description` as `vkedge:v1:` + base64(gzip(JSON)), within ZStack's 2048 characters.
 * A pod too large for that first loses the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation, then everything but each container's name and image; such a record is marked
 * `partial`, and after a restart the agent sees a difference and calls `updatePod` once,
 * which changes nothing on the VM. Ownership is never read from the description: user tags
 * decide which VMs belong to a node and which pod a VM serves.
 *
 * @module
 */

import { qosClassOf } from "../../lib/provider_kit/mod.ts";
import type { Container, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InvalidInputError } from "../../lib/provider.ts";
import { parseQuantity, quantityValue } from "../../lib/quantity.ts";
import type { VmInstance } from "./api_types.ts";
import { errorMessage } from "../../lib/errors.ts";

/** Annotation naming the instance offering (name or uuid) that sizes the VM. */
export const instanceOfferingAnnotation = "zstack.vkedge.io/instance-offering";
/** Annotation listing L3 networks (names or uuids, comma-separated); the first is the pod network. */
export const l3NetworksAnnotation = "zstack.vkedge.io/l3-networks";
/** Annotation with cloud-init user data (`#cloud-config` YAML or a `#!` script). */
export const userDataAnnotation = "zstack.vkedge.io/user-data";
/** Prefix of container images that name ZStack images: `zstack/<image name or uuid>`. */
export const imagePrefix = "zstack/";
/** Prefix of every ownership tag. */
export const tagPrefix = "vkedge.io/";
/** Prefix of the description holding the remembered pod spec. */
export const descriptionPrefix = "vkedge:v1:";
/** Longest VM description ZStack stores. */
export const maxDescriptionLength = 2048;

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
const uuidPattern = /^[0-9a-f]{32}$/;
const mebibyte = 2 ** 20;

/** Who a VM serves. */
export interface PodIdentity {
  /** Pod namespace. */
  namespace: string;
  /** Pod name. */
  name: string;
  /** Pod UID. */
  uid: string;
}

/** A container image as a ZStack image reference. */
export type ImageRef = { kind: "uuid"; uuid: string } | { kind: "name"; name: string };

/** A pod the provider can run. */
export interface ValidatedPod {
  /** Namespace, name and UID. */
  identity: PodIdentity;
  /** The single container. */
  container: Container;
  /** The image it names. */
  image: ImageRef;
}

/** `namespace/name` of an identity. */
export function podKeyOf(identity: { namespace: string; name: string }): string {
  return `${identity.namespace}/${identity.name}`;
}

/**
 * Reads `zstack/<name or uuid>` (after applying `aliases`, keyed by what follows
 * `zstack/`). Throws `InvalidInputError` saying what to write instead.
 */
export function parseImageRef(image: string, aliases: Record<string, string> = {}): ImageRef {
  if (!image.startsWith(imagePrefix) || image.length === imagePrefix.length) {
    throw new InvalidInputError(
      `container image: expected "zstack/<ZStack image name or uuid>" such as "zstack/ubuntu-22.04", found "${image}"`,
    );
  }
  const reference = image.slice(imagePrefix.length);
  const target = Object.hasOwn(aliases, reference) ? aliases[reference] : reference;
  return uuidPattern.test(target) ? { kind: "uuid", uuid: target } : { kind: "name", name: target };
}

/**
 * Checks that the pod can become one VM: namespace, name and UID, exactly one container,
 * no init or ephemeral containers, a `zstack/…` image. Throws `InvalidInputError` saying
 * what to change.
 */
export function validatePod(pod: Pod, aliases: Record<string, string> = {}): ValidatedPod {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const uid = pod.metadata?.uid ?? "";
  if (namespace === "" || name === "" || uid === "") {
    throw new InvalidInputError(
      `zstack provider: expected a pod with metadata.namespace, metadata.name and metadata.uid, found namespace "${namespace}", name "${name}" and uid "${uid}"`,
    );
  }
  const key = `${namespace}/${name}`;
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected exactly one container (one VM per pod), found ${containers.length}${
        containers.length > 1
          ? ` (${
            containers.map((c) => `"${c.name}"`).join(", ")
          }): run them in one VM image or split them into separate pods`
          : ""
      }`,
    );
  }
  const init = pod.spec?.initContainers ?? [];
  if (init.length > 0) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected no init containers, found ${init.length} (${
        init.map((c) => `"${c.name}"`).join(", ")
      }): move their work into the VM's cloud-init user data (annotation ${userDataAnnotation})`,
    );
  }
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected no ephemeral containers, found ${pod.spec?.ephemeralContainers?.length}: a VM cannot run debug containers`,
    );
  }
  const container = containers[0];
  let image: ImageRef;
  try {
    image = parseImageRef(container.image ?? "", aliases);
  } catch (error) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}, container "${container.name}": ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return { identity: { namespace, name, uid }, container, image };
}

/**
 * The VM uuid of a pod: the pod UID without dashes when it is a UUID, else the first 32
 * hex digits of its SHA-256. Passed as `resourceUuid`, it makes a repeated create find
 * the VM instead of making a second one.
 */
export async function vmUuidForPod(uid: string): Promise<string> {
  const compact = uid.replaceAll("-", "").toLowerCase();
  if (uuidPattern.test(compact)) return compact;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(uid));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("").slice(0, 32);
}

/** The VM name: `vkedge-<namespace>.<pod name>` (namespaces have no dots), at most 255 characters. */
export function vmNameForPod(identity: { namespace: string; name: string }): string {
  return `vkedge-${identity.namespace}.${identity.name}`.slice(0, 255);
}

/** The tag every VM of one node carries, the only one `getPods` queries by. */
export function nodeTag(clusterName: string, nodeName: string): string {
  return `${tagPrefix}node:${clusterName}/${nodeName}`;
}

/** The user tags of a pod's VM: cluster, node, namespace, pod name and pod UID. */
export function ownerTags(identity: PodIdentity, clusterName: string, nodeName: string): string[] {
  return [
    `${tagPrefix}cluster:${clusterName}`,
    nodeTag(clusterName, nodeName),
    `${tagPrefix}namespace:${identity.namespace}`,
    `${tagPrefix}pod:${identity.name}`,
    `${tagPrefix}pod-uid:${identity.uid}`,
  ];
}

/** Reads the pod identity from a VM's user tags, or `undefined` when one is missing. */
export function identityFromTags(tags: readonly string[]): PodIdentity | undefined {
  const value = (key: string): string | undefined => {
    const prefix = `${tagPrefix}${key}:`;
    return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
  };
  const namespace = value("namespace");
  const name = value("pod");
  const uid = value("pod-uid");
  if (!namespace || !name || !uid) return undefined;
  return { namespace, name, uid };
}

/** The comma-separated list in annotation `key`, or `undefined` when absent or empty. */
export function annotationList(pod: Pod, key: string): string[] | undefined {
  const text = pod.metadata?.annotations?.[key];
  if (text === undefined) return undefined;
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  return items.length === 0 ? undefined : items;
}

/** CPU and memory of a VM. */
export interface VmSize {
  /** vCPUs. */
  cpuNum: number;
  /** Bytes, a whole number of MiB. */
  memorySize: number;
  /** Whether the pod set cpu or memory itself (otherwise the defaults were used). */
  explicit: boolean;
}

function quantityOf(text: string, what: string): number {
  try {
    return parseQuantity(text);
  } catch (error) {
    throw new InvalidInputError(
      `${what}: expected a Kubernetes quantity, found "${text}"`,
      { cause: error },
    );
  }
}

/**
 * The VM size of a container: limits, else requests, else `defaults`; CPU rounded up to
 * whole vCPUs, memory up to whole MiB.
 */
export function vmSizeOf(container: Container, defaults: { cpu: string; memory: string }): VmSize {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpu = limits.cpu ?? requests.cpu;
  const memory = limits.memory ?? requests.memory;
  const cpuText = String(cpu ?? defaults.cpu);
  quantityOf(cpuText, `container "${container.name}" cpu`);
  const cpuNum = Math.max(1, quantityValue(cpuText));
  const bytes = quantityOf(
    String(memory ?? defaults.memory),
    `container "${container.name}" memory`,
  );
  const memorySize = Math.max(1, Math.ceil(bytes / mebibyte)) * mebibyte;
  return { cpuNum, memorySize, explicit: cpu !== undefined || memory !== undefined };
}

/** The pod's hostname: `spec.hostname` or its name, as one DNS label. */
export function podHostname(pod: Pod): string {
  const wanted = (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").toLowerCase();
  const label = wanted.replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return label === "" ? "pod" : label;
}

/** Expands `$(NAME)` from `env` as the kubelet does; `$$` escapes, unknown names stay as written. */
export function expandVariables(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Options of {@linkcode buildUserData}. */
export interface UserDataOptions {
  /** The pod (for its name and the user-data annotation). */
  pod: Pod;
  /** Its container (env, command, args). */
  container: Container;
}

/**
 * The cloud-init user data of a pod's VM: the pod's `#cloud-config` annotation (or `#!`
 * script) extended with the hostname, `/etc/vkedge/pod.env` (the container's env as shell
 * exports) and, when the container has a command or args, `/etc/vkedge/run.sh` started in
 * the background at first boot with its output in `/var/log/vkedge-pod.log`.
 */
export function buildUserData(options: UserDataOptions): string {
  const { pod, container } = options;
  const key = podKeyOf({
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
  });
  const document = userDocument(pod, key);
  const env = new Map<string, string>();
  const envLines = [`# environment of pod ${key}, container ${container.name}, written by vkedge`];
  for (const variable of container.env ?? []) {
    if (variable.value === undefined && variable.valueFrom !== undefined) continue;
    const value = variable.value ?? "";
    env.set(variable.name, value);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable.name)) {
      envLines.push(`export ${variable.name}=${shellQuote(value)}`);
    } else {
      envLines.push(`# skipped ${JSON.stringify(variable.name)}: not a shell variable name`);
    }
  }
  const files: Array<Record<string, string>> = [
    { path: "/etc/vkedge/pod.env", permissions: "0600", content: `${envLines.join("\n")}\n` },
  ];
  const runcmd: unknown[] = [];
  const argv = [...(container.command ?? []), ...(container.args ?? [])]
    .map((part) => expandVariables(part, env));
  if (argv.length > 0) {
    files.push({
      path: "/etc/vkedge/run.sh",
      permissions: "0755",
      content: [
        "#!/bin/sh",
        "set -a",
        ". /etc/vkedge/pod.env",
        "set +a",
        ...(container.workingDir ? [`cd ${shellQuote(container.workingDir)} || exit 1`] : []),
        `exec ${argv.map(shellQuote).join(" ")}`,
        "",
      ].join("\n"),
    });
    runcmd.push(["sh", "-c", "nohup /etc/vkedge/run.sh >>/var/log/vkedge-pod.log 2>&1 &"]);
  }
  document.hostname ??= podHostname(pod);
  document.write_files = [...asList(document.write_files), ...files];
  document.runcmd = [...asList(document.runcmd), ...runcmd];
  if ((document.runcmd as unknown[]).length === 0) delete document.runcmd;
  return `#cloud-config\n${stringifyYaml(document, { lineWidth: 0 })}`;
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function userDocument(pod: Pod, key: string): Record<string, unknown> {
  const text = pod.metadata?.annotations?.[userDataAnnotation];
  if (text === undefined || text.trim() === "") return {};
  if (text.startsWith("#!")) {
    return {
      write_files: [{ path: "/etc/vkedge/user-data.sh", permissions: "0755", content: text }],
      runcmd: [["/etc/vkedge/user-data.sh"]],
    };
  }
  if (!text.startsWith("#cloud-config")) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: annotation ${userDataAnnotation}: expected "#cloud-config" YAML or a "#!" script, found text starting with ${
        JSON.stringify(text.slice(0, 20))
      }`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: annotation ${userDataAnnotation}: expected valid YAML, found ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: annotation ${userDataAnnotation}: expected a YAML mapping, found ${
        Array.isArray(parsed) ? "a list" : typeof parsed
      }`,
    );
  }
  return { ...(parsed as Record<string, unknown>) };
}

/** Base64 of the UTF-8 bytes of `text`, as `userdata::` wants it. */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

// ---------------------------------------------------------------------------
// Remembered pod spec
// ---------------------------------------------------------------------------

/** What the VM description remembers of its pod. */
export interface StoredPodSpec {
  /** Format version. */
  v: 1;
  namespace: string;
  name: string;
  uid: string;
  containers: Container[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tolerations?: NonNullable<Pod["spec"]>["tolerations"];
  activeDeadlineSeconds?: number;
  /** Set when fields were dropped to fit the description. */
  partial?: true;
}

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

async function pack(spec: StoredPodSpec): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(spec));
  const packed = await transform(json, new CompressionStream("gzip"));
  let binary = "";
  for (const byte of packed) binary += String.fromCharCode(byte);
  return `${descriptionPrefix}${btoa(binary)}`;
}

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  if (value === undefined) return undefined;
  return Object.keys(value).length === 0 ? undefined : value;
}

/**
 * The description remembering `pod`: full when it fits in 2048 characters, else
 * `partial` (see the module documentation).
 */
export async function encodePodSpec(
  pod: Pod,
  identity: PodIdentity,
): Promise<{ description: string; partial: boolean }> {
  const full: StoredPodSpec = {
    v: 1,
    ...identity,
    containers: pod.spec?.containers ?? [],
    ...(nonEmpty(pod.metadata?.labels) ? { labels: pod.metadata?.labels } : {}),
    ...(nonEmpty(pod.metadata?.annotations) ? { annotations: pod.metadata?.annotations } : {}),
    ...((pod.spec?.tolerations ?? []).length > 0 ? { tolerations: pod.spec?.tolerations } : {}),
    ...(pod.spec?.activeDeadlineSeconds === undefined
      ? {}
      : { activeDeadlineSeconds: pod.spec.activeDeadlineSeconds }),
  };
  const first = await pack(full);
  if (first.length <= maxDescriptionLength) return { description: first, partial: false };
  const { [lastAppliedAnnotation]: _dropped, ...annotations } = full.annotations ?? {};
  const reduced: StoredPodSpec = { ...full, partial: true };
  if (nonEmpty(annotations)) reduced.annotations = annotations;
  else delete reduced.annotations;
  const second = await pack(reduced);
  if (second.length <= maxDescriptionLength) return { description: second, partial: true };
  const minimal: StoredPodSpec = {
    v: 1,
    ...identity,
    containers: full.containers.map((container) => ({
      name: container.name,
      image: container.image,
    })),
    partial: true,
  };
  const third = await pack(minimal);
  if (third.length <= maxDescriptionLength) return { description: third, partial: true };
  throw new InvalidInputError(
    `zstack provider: pod ${
      podKeyOf(identity)
    }: expected name, namespace and image to fit a VM description of ${maxDescriptionLength} characters, found ${third.length}`,
  );
}

/** Reads a description written by {@linkcode encodePodSpec}; `undefined` for anything else. */
export async function decodePodSpec(
  description: string | undefined,
): Promise<StoredPodSpec | undefined> {
  if (description === undefined || !description.startsWith(descriptionPrefix)) return undefined;
  try {
    const binary = atob(description.slice(descriptionPrefix.length));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const json = new TextDecoder().decode(
      await transform(bytes, new DecompressionStream("gzip")),
    );
    const value: unknown = JSON.parse(json);
    if (
      typeof value !== "object" || value === null || (value as { v?: unknown }).v !== 1 ||
      !Array.isArray((value as { containers?: unknown }).containers)
    ) {
      return undefined;
    }
    return value as StoredPodSpec;
  } catch {
    return undefined;
  }
}

/**
 * The pod (without status) a VM stands for: identity from its tags, spec from the
 * remembered record when it belongs to the same UID, else one container named after the
 * record or `vm` with the VM's image.
 */
export function podFromVm(
  vm: VmInstance,
  identity: PodIdentity,
  stored: StoredPodSpec | undefined,
  nodeName: string,
): Pod {
  const spec = stored !== undefined && stored.uid === identity.uid ? stored : undefined;
  const containers = spec?.containers ?? [{
    name: "vm",
    image: `${imagePrefix}${vm.imageUuid ?? "unknown"}`,
  }];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: identity.namespace,
      name: identity.name,
      uid: identity.uid,
      ...(spec?.labels ? { labels: spec.labels } : {}),
      ...(spec?.annotations ? { annotations: spec.annotations } : {}),
    },
    spec: {
      nodeName,
      containers,
      ...(spec?.tolerations ? { tolerations: spec.tolerations } : {}),
      ...(spec?.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
    },
  };
}

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/** RFC 3339 with seconds, as pod status timestamps are written. */
export function rfc3339(time: Date): string {
  return new Date(Math.floor(time.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The IPs of the VM's default NIC, IPv4 first; empty while none is allocated. */
export function podIpsOf(vm: VmInstance): string[] {
  const nics = [...vm.vmNics].sort((a, b) => (a.deviceId ?? 0) - (b.deviceId ?? 0));
  const nic = nics.find((candidate) => candidate.l3NetworkUuid === vm.defaultL3NetworkUuid) ??
    nics[0];
  if (nic === undefined) return [];
  const ips = [nic.ip, ...nic.usedIps.map((used) => used.ip)]
    .filter((ip): ip is string => typeof ip === "string" && ip !== "");
  const unique = [...new Set(ips)];
  return [...unique.filter((ip) => !ip.includes(":")), ...unique.filter((ip) => ip.includes(":"))];
}

/** What the provider knows about a VM beyond its inventory. */
export interface VmStatusContext {
  /** The pod as remembered (for container name, image and QoS). */
  pod: Pod;
  /** Management IP of the VM's host. */
  hostIp?: string;
  /** When the VM entered its current state (first observed). */
  stateSince: Date;
  /** When the VM was last seen entering Running. */
  runningSince?: Date;
  /** Set once the VM is destroyed or gone. */
  deleted?: {
    /** When. */
    at: Date;
    /** Whether vkedge did it, for the pod's deletion (else someone else did). */
    byUs: boolean;
    /** Set when vkedge left the VM running (`onPodDelete: keep`) and released it. */
    kept?: boolean;
  };
}

type ContainerView =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; ready: boolean; reason?: string; message?: string }
  | { kind: "terminated"; exitCode: number; reason: string; message: string };

function viewOf(vm: VmInstance, context: VmStatusContext): ContainerView {
  const what = `VM ${vm.name} (${vm.uuid})`;
  if (context.deleted?.kept) {
    return {
      kind: "terminated",
      exitCode: 0,
      reason: "VMReleased",
      message: `${what} was left running (onPodDelete: keep) and is no longer managed by vkedge`,
    };
  }
  if (context.deleted !== undefined) {
    return {
      kind: "terminated",
      exitCode: context.deleted.byUs ? 0 : 137,
      reason: "VMDestroyed",
      message: context.deleted.byUs
        ? `${what} was destroyed by vkedge for the pod's deletion`
        : `${what} is ${vm.state === "Destroyed" ? "destroyed" : "gone"}: it was not vkedge`,
    };
  }
  switch (vm.state) {
    case "Created":
    case "Starting":
      return { kind: "waiting", reason: "ContainerCreating", message: `${what} is ${vm.state}` };
    case "Running":
    case "Migrating":
      return { kind: "running", ready: true };
    case "Stopped":
      return {
        kind: "terminated",
        exitCode: 0,
        reason: "VMStopped",
        message: `${what} is Stopped`,
      };
    case "Crashed":
      return { kind: "terminated", exitCode: 1, reason: "VMCrashed", message: `${what} crashed` };
    case "Destroying":
    case "Destroyed":
    case "Expunging":
      return {
        kind: "terminated",
        exitCode: 137,
        reason: "VMDestroyed",
        message: `${what} is ${vm.state}: it was not vkedge`,
      };
    case "Error":
      return { kind: "waiting", reason: "VMError", message: `${what} is in state Error` };
    default:
      // Stopping, Rebooting, Pausing, Paused, Resuming, Unknown, NoState, Volume*…
      return {
        kind: "running",
        ready: false,
        reason: `VM${vm.state}`,
        message: `${what} is ${vm.state}`,
      };
  }
}

/**
 * The pod status of a VM: Starting → Pending (ContainerCreating), Running → Running and
 * Ready, Stopped/Crashed → not Ready with the reason, Destroyed → terminated (Succeeded
 * when vkedge destroyed it for the pod's deletion, Failed otherwise); pod IPs from the
 * default NIC, host IP from the host. Depends only on its arguments, so an unchanged VM
 * gives an identical status.
 */
export function podStatusFromVm(vm: VmInstance, context: VmStatusContext): PodStatus {
  const container = context.pod.spec?.containers?.[0] ?? { name: "vm" };
  const view = viewOf(vm, context);
  const created = vm.createDate ?? context.stateSince;
  const since = rfc3339(context.deleted?.at ?? context.stateSince);
  const startedAt = rfc3339(context.runningSince ?? context.stateSince);
  const ready = view.kind === "running" && view.ready;
  const destroyed = context.deleted !== undefined ||
    ["Destroying", "Destroyed", "Expunging"].includes(vm.state);
  const phase = destroyed
    ? (context.deleted?.byUs ? "Succeeded" : "Failed")
    : view.kind === "waiting"
    ? "Pending"
    : "Running";
  const notReady = view.kind === "running"
    ? { reason: view.reason ?? "VMNotReady", message: view.message ?? "" }
    : { reason: view.reason, message: view.message };
  const condition = (type: string, status: boolean, time: string): PodCondition => ({
    type,
    status: status ? "True" : "False",
    lastTransitionTime: time,
    ...(status || type === "PodScheduled" || type === "Initialized" ? {} : notReady),
  });
  const ips = destroyed ? [] : podIpsOf(vm);
  const hostIp = context.hostIp;
  const containerId = `zstack://${vm.uuid}`;
  const state = view.kind === "waiting"
    ? { waiting: { reason: view.reason, message: view.message } }
    : view.kind === "running"
    ? { running: { startedAt } }
    : {
      terminated: {
        exitCode: view.exitCode,
        reason: view.reason,
        message: view.message,
        ...(context.runningSince === undefined ? {} : { startedAt }),
        finishedAt: since,
        containerID: containerId,
      },
    };
  return {
    phase,
    ...(destroyed ? { reason: notReady.reason, message: notReady.message } : {}),
    conditions: [
      condition("PodReadyToStartContainers", view.kind !== "waiting" && !destroyed, since),
      condition("Initialized", true, rfc3339(created)),
      condition("Ready", ready, since),
      condition("ContainersReady", ready, since),
      condition("PodScheduled", true, rfc3339(created)),
    ],
    ...(hostIp ? { hostIP: hostIp, hostIPs: [{ ip: hostIp }] } : {}),
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: rfc3339(created),
    qosClass: qosClassOf(context.pod),
    containerStatuses: [{
      name: container.name,
      image: container.image ?? "",
      imageID: vm.imageUuid ? `zstack://image/${vm.imageUuid}` : "",
      containerID: containerId,
      ready,
      started: view.kind === "running",
      restartCount: 0,
      state,
      lastState: {},
    }],
  };
}

/** One lifecycle line as `kubectl logs` shows it: `[vkedge] <time> <text>`. */
export function logLine(time: Date, text: string): string {
  return `[vkedge] ${rfc3339(time)} ${text}`;
}

/** The text of a state line: `VM <name> (<uuid>) Running on host h1, IP 10.0.0.5`. */
export function vmStateText(vm: VmInstance, hostName: string | undefined): string {
  const ips = podIpsOf(vm);
  return `VM ${vm.name} (${vm.uuid}) ${vm.state}${hostName ? ` on host ${hostName}` : ""}${
    ips.length > 0 ? `, IP ${ips.join(", ")}` : ""
  }`;
}
