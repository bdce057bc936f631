/**
 * The ConfigMaps and Secrets a pod spec references: volumes (also inside projected
 * volumes), `env` keys, `envFrom` and image pull Secrets. These are the objects copied into
 * the lower namespace before the pod is made there, and kept while any lower pod refers to
 * them.
 *
 * @module
 */

import type { Container, PodSpec } from "kubernetes-types/core/v1.d.ts";

/** One referenced object. */
export interface ObjectRef {
  /** Its kind. */
  kind: "ConfigMap" | "Secret";
  /** Its name (in the pod's namespace). */
  name: string;
  /** Whether the pod runs without it. */
  optional: boolean;
}

/** `Kind/name` of a reference, the key the mirror keeps objects under. */
export function refKey(ref: Pick<ObjectRef, "kind" | "name">): string {
  return `${ref.kind}/${ref.name}`;
}

/** Every ConfigMap and Secret `spec` references, each once (mandatory wins over optional). */
export function referencedObjects(spec: PodSpec | undefined): ObjectRef[] {
  const found = new Map<string, ObjectRef>();
  const add = (kind: ObjectRef["kind"], name: string | undefined, optional?: boolean) => {
    if (name === undefined || name === "") return;
    const key = refKey({ kind, name });
    const known = found.get(key);
    found.set(key, { kind, name, optional: (optional ?? false) && (known?.optional ?? true) });
  };
  for (const volume of spec?.volumes ?? []) {
    add("ConfigMap", volume.configMap?.name, volume.configMap?.optional);
    add("Secret", volume.secret?.secretName, volume.secret?.optional);
    for (const source of volume.projected?.sources ?? []) {
      add("ConfigMap", source.configMap?.name, source.configMap?.optional);
      add("Secret", source.secret?.name, source.secret?.optional);
    }
  }
  const containers: Container[] = [...spec?.initContainers ?? [], ...spec?.containers ?? []];
  for (const container of containers) {
    for (const variable of container.env ?? []) {
      const configMap = variable.valueFrom?.configMapKeyRef;
      const secret = variable.valueFrom?.secretKeyRef;
      add("ConfigMap", configMap?.name, configMap?.optional);
      add("Secret", secret?.name, secret?.optional);
    }
    for (const source of container.envFrom ?? []) {
      add("ConfigMap", source.configMapRef?.name, source.configMapRef?.optional);
      add("Secret", source.secretRef?.name, source.secretRef?.optional);
    }
  }
  for (const pullSecret of spec?.imagePullSecrets ?? []) add("Secret", pullSecret.name);
  return [...found.values()].sort((a, b) => refKey(a).localeCompare(refKey(b)));
}
