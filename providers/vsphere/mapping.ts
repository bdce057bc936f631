/**
 * Pod ↔ vSphere VM, as pure functions tested without a server (`mapping_test.ts`).
 *
 * - Image `vsphere/<template>` (or an alias) names the template to clone.
 * - Size: `limits`, else `requests`, else the configured defaults, of cpu (whole vCPUs,
 *   rounded up) and memory (MiB, rounded up).
 * - Name `vkedge-<namespace>.<name>`, at most 80 characters (vSphere's limit: a longer one
 *   keeps 71 and adds a hash).
 * - Ownership in `config.extraConfig`: `guestinfo.vkedge.cluster`, `.node`
 *   (`<cluster>/<node>`), `.namespace`, `.pod`, `.uid` (the workload UID, see the kit's
 *   `workloadUid`), `.pod-uid`, `.pod-record` (the pod's containers, labels, annotations
 *   and tolerations, gzip and base64), `.power` (what vkedge wants: `on` or `off`).
 * - Guest set-up through cloud-init's VMware guestinfo data source: `guestinfo.metadata`
 *   (instance id, hostname) and `guestinfo.userdata` (env, command and args, plus the pod's
 *   own user data from annotation `vsphere.vkedge.io/user-data` or `vkedge.io/user-data`).
 * - Status: a VM being cloned is Pending; powered on it is Running, Ready once VMware
 *   Tools report an IP (unless `waitForGuestIp: false`); powered off or suspended it stays
 *   Running and not Ready (`VMStopped`, `VMSuspended`); destroyed by vkedge it is Succeeded.
 *
 * @module
 */

import type { Container, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  formatTime,
  qosClassOf,
  quantityMilliValue,
  quantityValue,
  VM_POD_ANNOTATIONS,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import type { VmRecord } from "./vm_record.ts";

/** The image prefix naming a template: `vsphere/<template>`. */
export const imagePrefix = "vsphere/";

/** Annotation naming the network of the VM's first NIC. */
export const networkAnnotation = "vsphere.vkedge.io/network";

/** Annotation with cloud-init user data for the guest. */
export const userDataAnnotation = "vsphere.vkedge.io/user-data";

/** The extraConfig keys vkedge writes. */
export const keys = {
  cluster: "guestinfo.vkedge.cluster",
  node: "guestinfo.vkedge.node",
  namespace: "guestinfo.vkedge.namespace",
  pod: "guestinfo.vkedge.pod",
  uid: "guestinfo.vkedge.uid",
  podUid: "guestinfo.vkedge.pod-uid",
  record: "guestinfo.vkedge.pod-record",
  power: "guestinfo.vkedge.power",
  metadata: "guestinfo.metadata",
  metadataEncoding: "guestinfo.metadata.encoding",
  userData: "guestinfo.userdata",
  userDataEncoding: "guestinfo.userdata.encoding",
} as const;

/** Who a VM serves. */
export interface PodIdentity {
  namespace: string;
  name: string;
  /** The workload UID. */
  uid: string;
}

/** `namespace/name`. */
export function identityKey(identity: { namespace: string; name: string }): string {
  return `${identity.namespace}/${identity.name}`;
}

/** The value of `guestinfo.vkedge.node` for this agent. */
export function nodeOwner(clusterName: string, nodeName: string): string {
  return `${clusterName}/${nodeName}`;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** The VM name of a pod: `vkedge-<namespace>.<name>`, at most 80 characters. */
export function vmNameOf(namespace: string, name: string): string {
  const full = `vkedge-${namespace}.${name}`.replace(/[%/\\]/g, "-");
  return full.length <= 80 ? full : `${full.slice(0, 71)}-${fnv1a(full)}`;
}

/** A pod the provider can run: who it is, its one container and the template. */
export interface ValidatedPod {
  identity: PodIdentity;
  container: Container;
  template: string;
}

/** The template an image names: `vsphere/<name>` or an alias; `undefined` otherwise. */
export function templateOf(image: string, aliases: Record<string, string>): string | undefined {
  if (Object.hasOwn(aliases, image)) return aliases[image];
  if (image.startsWith(imagePrefix) && image.length > imagePrefix.length) {
    return image.slice(imagePrefix.length);
  }
  return undefined;
}

/** Checks that `pod` can become one VM; throws `InvalidInputError` saying what is wrong. */
export function validatePod(pod: Pod, aliases: Record<string, string> = {}): ValidatedPod {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const uid = workloadUid(pod) ?? "";
  const key = `${namespace}/${name}`;
  if (namespace === "" || name === "" || uid === "") {
    throw new InvalidInputError(
      `vsphere provider: expected a pod with namespace, name and uid, found "${key}" uid "${uid}"`,
    );
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1 || (pod.spec?.initContainers ?? []).length > 0) {
    throw new InvalidInputError(
      `vsphere provider: pod ${key}: expected exactly one container and no init containers (one VM per pod), found ${containers.length} and ${
        (pod.spec?.initContainers ?? []).length
      }`,
    );
  }
  const container = containers[0];
  const template = templateOf(container.image ?? "", aliases);
  if (template === undefined) {
    const known = Object.keys(aliases);
    throw new InvalidInputError(
      `vsphere provider: pod ${key}: expected image "${imagePrefix}<template>"${
        known.length > 0 ? ` or one of the aliases ${known.join(", ")}` : ""
      }, found "${container.image ?? ""}"`,
    );
  }
  return { identity: { namespace, name, uid }, container, template };
}

/** vCPUs and memory of a VM. */
export interface VmSize {
  numCpu: number;
  memoryMB: number;
}

/** The VM size of `container`: limits, else requests, else `defaults`. */
export function vmSizeOf(container: Container, defaults: { cpu: string; memory: string }): VmSize {
  const pick = (resource: "cpu" | "memory") =>
    container.resources?.limits?.[resource] ?? container.resources?.requests?.[resource] ??
      defaults[resource];
  const numCpu = Math.max(1, Math.ceil(quantityMilliValue(String(pick("cpu"))) / 1000));
  const memoryMB = Math.max(4, Math.ceil(quantityValue(String(pick("memory"))) / (1024 * 1024)));
  return { numCpu, memoryMB };
}

/** The network a pod names (annotation, else a VM-Pod's first `vkedge.io/networks`). */
export function networkOf(pod: Pod): string | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const own = annotations[networkAnnotation]?.trim();
  if (own) return own;
  const generic = annotations[VM_POD_ANNOTATIONS.networks]?.split(",")[0]?.trim();
  return generic ? generic : undefined;
}

/** Who a VM serves, from its extraConfig; `undefined` for a VM vkedge did not make. */
export function identityOf(extraConfig: ReadonlyMap<string, string>): PodIdentity | undefined {
  const namespace = extraConfig.get(keys.namespace);
  const name = extraConfig.get(keys.pod);
  const uid = extraConfig.get(keys.uid);
  if (!namespace || !name || !uid) return undefined;
  return { namespace, name, uid };
}

// ---------------------------------------------------------------------------
// The pod remembered on the VM
// ---------------------------------------------------------------------------

/** What `guestinfo.vkedge.pod-record` remembers of the pod. */
export interface PodRecord {
  v: 1;
  containers: Container[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tolerations?: NonNullable<Pod["spec"]>["tolerations"];
}

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Longest pod record kept (vSphere allows more, but extraConfig travels with every read). */
export const maxRecordLength = 16_384;

/** The pod record of `pod`, gzip and base64; a too large one drops the last-applied annotation. */
export async function encodePodRecord(pod: Pod): Promise<string> {
  const annotations = { ...pod.metadata?.annotations };
  const record: PodRecord = {
    v: 1,
    containers: pod.spec?.containers ?? [],
    ...(pod.metadata?.labels ? { labels: pod.metadata.labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(pod.spec?.tolerations?.length ? { tolerations: pod.spec.tolerations } : {}),
  };
  const pack = async (value: PodRecord) =>
    toBase64(
      await transform(
        new TextEncoder().encode(JSON.stringify(value)),
        new CompressionStream("gzip"),
      ),
    );
  const full = await pack(record);
  if (full.length <= maxRecordLength) return full;
  delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
  const reduced = await pack({ ...record, annotations });
  if (reduced.length <= maxRecordLength) return reduced;
  throw new InvalidInputError(
    `vsphere provider: pod ${pod.metadata?.namespace}/${pod.metadata?.name}: expected its containers, labels and annotations to fit ${maxRecordLength} characters of extraConfig, found ${reduced.length}`,
  );
}

/** Reads a pod record; `undefined` for anything else. */
export async function decodePodRecord(text: string | undefined): Promise<PodRecord | undefined> {
  if (!text) return undefined;
  try {
    const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
    const json = new TextDecoder().decode(
      await transform(bytes, new DecompressionStream("gzip")),
    );
    const value: unknown = JSON.parse(json);
    if (
      typeof value !== "object" || value === null || (value as { v?: unknown }).v !== 1 ||
      !Array.isArray((value as { containers?: unknown }).containers)
    ) return undefined;
    return value as PodRecord;
  } catch {
    return undefined;
  }
}

/** The pod (without status) a VM stands for, from its ownership and its pod record. */
export function podFromVm(
  vm: VmRecord,
  options: { identity: PodIdentity; record: PodRecord | undefined; nodeName: string },
): Pod {
  const { identity, record, nodeName } = options;
  const podUid = vm.extraConfig.get(keys.podUid) || identity.uid;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: identity.namespace,
      name: identity.name,
      uid: podUid,
      ...(record?.labels ? { labels: record.labels } : {}),
      ...(record?.annotations ? { annotations: record.annotations } : {}),
    },
    spec: {
      nodeName,
      containers: record?.containers ?? [{ name: "vm", image: `${imagePrefix}unknown` }],
      ...(record?.tolerations ? { tolerations: record.tolerations } : {}),
    },
  };
}

// ---------------------------------------------------------------------------
// Guest set-up
// ---------------------------------------------------------------------------

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

function yamlString(text: string): string {
  return JSON.stringify(text);
}

/** The pod's hostname: `spec.hostname` or its name, as one DNS label. */
export function podHostname(pod: Pod): string {
  const wanted = (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").toLowerCase();
  const label = wanted.replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return label === "" ? "pod" : label;
}

/**
 * The cloud-init user data of `container`'s VM: `/etc/vkedge/pod.env` with its env and
 * `/etc/vkedge/run.sh` with its command and args (run once at first boot), and the pod's
 * own user data as a second part of a MIME multipart message when it has some.
 */
export function userDataOf(pod: Pod, container: Container): string {
  const env = (container.env ?? []).flatMap((variable) =>
    variable.value === undefined ? [] : [`${variable.name}=${shellQuote(variable.value)}`]
  );
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const lines = [
    "#cloud-config",
    `hostname: ${yamlString(podHostname(pod))}`,
    "write_files:",
    "  - path: /etc/vkedge/pod.env",
    "    permissions: '0600'",
    `    content: ${yamlString(env.map((line) => `${line}\n`).join(""))}`,
  ];
  if (argv.length > 0) {
    lines.push(
      "  - path: /etc/vkedge/run.sh",
      "    permissions: '0755'",
      `    content: ${
        yamlString(
          `#!/bin/sh\nset -a\n. /etc/vkedge/pod.env\nset +a\nexec ${
            argv.map(shellQuote).join(" ")
          }\n`,
        )
      }`,
      "runcmd:",
      "  - [sh, -c, 'nohup /etc/vkedge/run.sh >/var/log/vkedge-run.log 2>&1 &']",
    );
  }
  const vkedge = `${lines.join("\n")}\n`;
  const annotations = pod.metadata?.annotations ?? {};
  const own = [userDataAnnotation, VM_POD_ANNOTATIONS.userData]
    .map((key) => annotations[key])
    .find((text) => text !== undefined && text.trim() !== "");
  if (own === undefined) return vkedge;
  const boundary = "vkedge-user-data";
  const part = (text: string) => {
    const type = text.startsWith("#!") ? "text/x-shellscript" : "text/cloud-config";
    return `--${boundary}\nContent-Type: ${type}; charset="utf-8"\n\n${text}\n`;
  };
  return `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n${
    part(vkedge)
  }${part(own)}--${boundary}--\n`;
}

/** cloud-init's instance metadata: the instance id and the hostname. */
export function metadataOf(pod: Pod, instanceId: string): string {
  return JSON.stringify({ "instance-id": instanceId, "local-hostname": podHostname(pod) });
}

/** Base64 of UTF-8 text, as guestinfo `*.encoding: base64` expects. */
export function base64Text(text: string): string {
  return toBase64(new TextEncoder().encode(text));
}

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/** What the provider knows of a VM beyond its properties. */
export interface VmStatusContext {
  /** The pod as remembered. */
  pod: Pod;
  /** The VM's host name. */
  hostName?: string;
  /** When the VM entered its current state (first observed). */
  stateSince: Date;
  /** When it was created (or first seen). */
  createdAt: Date;
  /** When it was last seen entering Running. */
  runningSince?: Date;
  /** Readiness needs a guest IP. */
  waitForGuestIp: boolean;
  /** A power action vkedge is carrying out, such as `Stopping`. */
  transition?: string;
  /** Set while the clone runs. */
  creating?: boolean;
  /** Set once vkedge destroyed the VM (or found it gone). */
  deleted?: { at: Date; byUs: boolean };
}

type ContainerView =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; ready: boolean; reason?: string; message?: string }
  | { kind: "terminated"; exitCode: number; reason: string; message: string };

function viewOf(vm: VmRecord | undefined, context: VmStatusContext): ContainerView {
  const what = `VM ${
    vm?.name ?? vmNameOf(context.pod.metadata?.namespace ?? "", context.pod.metadata?.name ?? "")
  }`;
  if (context.deleted !== undefined) {
    return {
      kind: "terminated",
      exitCode: context.deleted.byUs ? 0 : 137,
      reason: "VMDestroyed",
      message: context.deleted.byUs
        ? `${what} was destroyed by vkedge for the pod's deletion`
        : `${what} is gone: it was not vkedge`,
    };
  }
  if (vm === undefined || context.creating) {
    return { kind: "waiting", reason: "ContainerCreating", message: `${what} is being cloned` };
  }
  if (context.transition !== undefined) {
    return {
      kind: "running",
      ready: false,
      reason: `VM${context.transition}`,
      message: `${what} is ${context.transition}`,
    };
  }
  switch (vm.power) {
    case "poweredOn":
      if (context.waitForGuestIp && vm.ips.length === 0) {
        return {
          kind: "running",
          ready: false,
          reason: "VMBooting",
          message: `${what} is powered on; waiting for VMware Tools to report an IP`,
        };
      }
      return { kind: "running", ready: true };
    case "suspended":
      return {
        kind: "running",
        ready: false,
        reason: "VMSuspended",
        message: `${what} is suspended`,
      };
    default:
      return {
        kind: "terminated",
        exitCode: 0,
        reason: "VMStopped",
        message: `${what} is powered off`,
      };
  }
}

/**
 * The pod status of a VM (see the module documentation). Depends only on its arguments,
 * so an unchanged VM gives an identical status.
 */
export function podStatusOf(vm: VmRecord | undefined, context: VmStatusContext): PodStatus {
  const container = context.pod.spec?.containers?.[0] ?? { name: "vm" };
  const view = viewOf(vm, context);
  const since = formatTime(context.deleted?.at ?? context.stateSince);
  const created = formatTime(context.createdAt);
  const startedAt = formatTime(context.runningSince ?? context.stateSince);
  const ready = view.kind === "running" && view.ready;
  const destroyed = context.deleted !== undefined;
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
  const ips = destroyed || vm === undefined ? [] : vm.ips;
  const containerId = vm ? `vsphere://${vm.instanceUuid ?? vm.ref.value}` : "";
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
        ...(containerId ? { containerID: containerId } : {}),
      },
    };
  return {
    phase,
    ...(destroyed ? { reason: notReady.reason, message: notReady.message } : {}),
    conditions: [
      condition("PodReadyToStartContainers", view.kind !== "waiting" && !destroyed, since),
      condition("Initialized", true, created),
      condition("Ready", ready, since),
      condition("ContainersReady", ready, since),
      condition("PodScheduled", true, created),
    ],
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: created,
    qosClass: qosClassOf(context.pod),
    containerStatuses: [{
      name: container.name,
      image: container.image ?? "",
      imageID: "",
      ...(containerId ? { containerID: containerId } : {}),
      ready,
      started: view.kind === "running",
      restartCount: 0,
      state,
      lastState: {},
    }],
  };
}

/** The text of a state line: `VM <name> (vm-42) poweredOn on host h1, IP 10.0.0.5`. */
export function vmStateText(vm: VmRecord, hostName: string | undefined): string {
  return `VM ${vm.name} (${vm.ref.value}) ${vm.power}${hostName ? ` on host ${hostName}` : ""}${
    vm.ips.length > 0 ? `, IP ${vm.ips.join(", ")}` : ""
  }`;
}
