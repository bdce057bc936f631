/**
 * The pod remembered on its VM, so the provider keeps no local state: extraConfig
 * `guestinfo.vkedge.pod-record` holds the pod's containers, labels, annotations and
 * tolerations (gzip and base64), and after a restart the pod is rebuilt from it and the
 * VM's ownership keys.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import { base64Bytes } from "./base64.ts";
import { keys, type PodIdentity } from "./identity.ts";
import { imagePrefix } from "./pod_to_vm.ts";
import type { VmRecord } from "./vm_record.ts";

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
    base64Bytes(
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
