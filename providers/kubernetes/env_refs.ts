/**
 * Environment variables that came from a ConfigMap or Secret key. The agent hands the
 * provider each container's environment resolved to plain values; below, a variable whose
 * value is a ConfigMap or Secret key becomes a reference to the copy of that object in the
 * lower namespace (`valueFrom.configMapKeyRef` / `secretKeyRef`), so that Secret values
 * never appear in a lower pod's spec. Which variables came from where is read from the
 * upper pod as the API server has it (`env` and `envFrom` in order, later wins), and only
 * a value that equals the object's current value is turned into a reference.
 *
 * The same form is kept in the lower pod's record of the upper spec; `upperEnv` turns it
 * back into plain values from the upper objects, which is what the agent resolves, so an
 * unchanged pod reads back unchanged.
 *
 * @module
 */

import type { ConfigMap, Container, EnvVar, Secret } from "kubernetes-types/core/v1.d.ts";

/** Where the upper ConfigMaps and Secrets are read (the agent's caches). */
export interface UpperObjects {
  /** The ConfigMap `namespace/name`, or undefined. */
  getConfigMap(namespace: string, name: string): ConfigMap | undefined;
  /** The Secret `namespace/name`, or undefined. */
  getSecret(namespace: string, name: string): Secret | undefined;
}

/** One key of one ConfigMap or Secret. */
interface KeyOrigin {
  kind: "ConfigMap" | "Secret";
  name: string;
  key: string;
  optional?: boolean;
}

const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function decodeBase64(text: string): string | undefined {
  try {
    const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The value of `origin` in the upper namespace `namespace`, or undefined. */
function valueOf(origin: KeyOrigin, namespace: string, objects: UpperObjects): string | undefined {
  if (origin.kind === "ConfigMap") {
    return objects.getConfigMap(namespace, origin.name)?.data?.[origin.key];
  }
  const encoded = objects.getSecret(namespace, origin.name)?.data?.[origin.key];
  return encoded === undefined ? undefined : decodeBase64(encoded);
}

/** The variable names of `container` that come from an object key, last definition winning. */
function originsOf(
  container: Container,
  namespace: string,
  objects: UpperObjects,
): Map<string, KeyOrigin> {
  const origins = new Map<string, KeyOrigin>();
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? "";
    const ref = source.configMapRef ?? source.secretRef;
    if (ref?.name === undefined) continue;
    const kind = source.configMapRef ? "ConfigMap" : "Secret";
    const data = kind === "ConfigMap"
      ? objects.getConfigMap(namespace, ref.name)?.data
      : objects.getSecret(namespace, ref.name)?.data;
    for (const key of Object.keys(data ?? {})) {
      const name = `${prefix}${key}`;
      if (ENV_VAR_NAME.test(name)) origins.set(name, { kind, name: ref.name, key });
    }
  }
  for (const variable of container.env ?? []) {
    const configMap = variable.valueFrom?.configMapKeyRef;
    const secret = variable.valueFrom?.secretKeyRef;
    if (configMap?.name) {
      origins.set(variable.name, {
        kind: "ConfigMap",
        name: configMap.name,
        key: configMap.key,
        optional: configMap.optional,
      });
    } else if (secret?.name) {
      origins.set(variable.name, {
        kind: "Secret",
        name: secret.name,
        key: secret.key,
        optional: secret.optional,
      });
    } else {
      origins.delete(variable.name);
    }
  }
  return origins;
}

function reference(name: string, origin: KeyOrigin): EnvVar {
  const ref = {
    name: origin.name,
    key: origin.key,
    ...(origin.optional === undefined ? {} : { optional: origin.optional }),
  };
  return {
    name,
    valueFrom: origin.kind === "ConfigMap" ? { configMapKeyRef: ref } : { secretKeyRef: ref },
  };
}

/**
 * The lower form of the resolved variables `resolved` of a container whose upper definition
 * is `original` (undefined: every value stays plain), in the upper namespace `namespace`.
 */
export function lowerEnv(
  resolved: EnvVar[] | undefined,
  original: Container | undefined,
  namespace: string,
  objects: UpperObjects,
): EnvVar[] {
  const origins = original ? originsOf(original, namespace, objects) : new Map();
  return (resolved ?? []).map((variable) => {
    const origin = origins.get(variable.name);
    if (origin === undefined || variable.valueFrom !== undefined) return variable;
    const current = valueOf(origin, namespace, objects);
    return current !== undefined && current === (variable.value ?? "")
      ? reference(variable.name, origin)
      : variable;
  });
}

/**
 * The plain values of variables in the lower form, read from the upper objects of
 * `namespace`; a reference whose key is gone is left out, as the agent leaves out an
 * optional one.
 */
export function upperEnv(
  stored: EnvVar[] | undefined,
  namespace: string,
  objects: UpperObjects,
): EnvVar[] {
  const out: EnvVar[] = [];
  for (const variable of stored ?? []) {
    const configMap = variable.valueFrom?.configMapKeyRef;
    const secret = variable.valueFrom?.secretKeyRef;
    const ref = configMap ?? secret;
    if (ref?.name === undefined) {
      out.push(variable);
      continue;
    }
    const value = valueOf(
      { kind: configMap ? "ConfigMap" : "Secret", name: ref.name, key: ref.key },
      namespace,
      objects,
    );
    if (value !== undefined) out.push({ name: variable.name, value });
  }
  return out;
}
