/**
 * Resolves the environment of a pod's containers before the pod is handed to a
 * provider, as the kubelet does: `envFrom` ConfigMaps and Secrets, then `env`
 * with `$(VAR)` expansion and `valueFrom` (ConfigMap and Secret keys, the
 * downward API, container resources), then service links. Providers receive
 * plain name/value pairs and never need to read ConfigMaps or Secrets.
 *
 * @module
 */

import type {
  ConfigMap,
  Container,
  EnvFromSource,
  EnvVar,
  EphemeralContainer,
  Pod,
  Secret,
  Service,
} from "kubernetes-types/core/v1.d.ts";
import { canonicalJson } from "../canonical_json.ts";
import { cloneJson } from "../clone_json.ts";
import { errorMessage } from "../errors.ts";
import { fieldRefValue, resourceFieldRefValue } from "./downward_api.ts";
import { EnvResolutionError } from "./env_error.ts";

export { EnvResolutionError } from "./env_error.ts";
import { serviceEnv } from "./service_env.ts";

/** Where references are looked up; backed by informer stores, so lookups are synchronous. */
export interface EnvSources {
  /** The ConfigMap `namespace/name`, or undefined when there is none. */
  getConfigMap(namespace: string, name: string): ConfigMap | undefined;
  /** The Secret `namespace/name`, or undefined when there is none. */
  getSecret(namespace: string, name: string): Secret | undefined;
  /** The Services of one namespace. */
  listServices(namespace: string): Service[];
}

/** An event about the pod that resolution wants recorded. */
export interface EnvEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** Options of {@linkcode resolvePodEnv}. */
export interface ResolvePodEnvOptions {
  /** Called once per distinct event; every {@linkcode EnvResolutionError} is recorded before it is thrown. */
  recordEvent?: (event: EnvEvent) => void;
  /** Namespace of the `kubernetes` service whose variables every pod gets; default `default`. */
  masterServiceNamespace?: string;
  /** Node allocatable resources (`cpu`, `memory`, …), the value of `limits.*` a container does not set. */
  nodeAllocatable?: Record<string, string>;
}

type AnyContainer = Container | EphemeralContainer;
type SourceKind = "ConfigMap" | "Secret";

interface Context {
  pod: Pod;
  sources: EnvSources;
  emit: (event: EnvEvent) => void;
  serviceEnv: Map<string, string>;
  nodeAllocatable: Record<string, string>;
}

const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Returns a deep copy of `pod` whose init, regular and ephemeral containers (in
 * that order) have `env` replaced by the resolved variables, sorted by name,
 * each with a plain `value`, and `envFrom` emptied. The input is not modified.
 *
 * Variables come from `envFrom` (invalid names skipped and reported), are
 * overlaid by `env` in order (later wins), then service links are added for
 * names not yet set. A missing optional reference is reported as a Warning and
 * skipped; a missing mandatory one, an unsupported `fieldRef` or an invalid
 * `resourceFieldRef` is reported as a Warning and thrown as an
 * {@linkcode EnvResolutionError}, so callers need not record it again.
 */
export function resolvePodEnv(
  pod: Pod,
  sources: EnvSources,
  options: ResolvePodEnvOptions = {},
): Pod {
  const resolved = cloneJson(pod);
  const spec = resolved.spec;
  if (!spec) return resolved;
  const seen = new Set<string>();
  const context: Context = {
    pod,
    sources,
    emit(event) {
      const key = `${event.type}\u0000${event.reason}\u0000${event.message}`;
      if (seen.has(key)) return;
      seen.add(key);
      options.recordEvent?.(event);
    },
    serviceEnv: serviceEnv(pod, sources, options.masterServiceNamespace ?? "default"),
    nodeAllocatable: options.nodeAllocatable ?? {},
  };
  const containers: AnyContainer[] = [
    ...spec.initContainers ?? [],
    ...spec.containers ?? [],
    ...spec.ephemeralContainers ?? [],
  ];
  for (const container of containers) {
    container.env = containerEnv(container, context);
    container.envFrom = [];
  }
  return resolved;
}

/**
 * Whether two environment lists hold the same variables regardless of order;
 * an empty `value` equals an absent one and an absent list equals an empty one.
 */
export function envEqual(a: EnvVar[] | undefined, b: EnvVar[] | undefined): boolean {
  const left = canonicalEnv(a);
  const right = canonicalEnv(b);
  return left.length === right.length && left.every((entry, i) => entry === right[i]);
}

function canonicalEnv(env: EnvVar[] | undefined): string[] {
  return (env ?? []).map((v) => canonicalJson([v.name, v.value ?? "", v.valueFrom ?? null])).sort();
}

/** Runs a downward API lookup; its refusal is reported and thrown like every other. */
function downward(context: Context, lookup: () => string): string {
  try {
    return lookup();
  } catch (error) {
    if (error instanceof EnvResolutionError) fail(context, error.reason, error.message);
    throw error;
  }
}

function fail(context: Context, reason: string, message: string): never {
  context.emit({ type: "Warning", reason, message });
  throw new EnvResolutionError(reason, message);
}

/** The value of an own property; keys such as `constructor` are data, not the prototype's. */
function own(map: Record<string, string> | undefined, key: string): string | undefined {
  return map && Object.hasOwn(map, key) ? map[key] : undefined;
}

function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

function containerEnv(container: AnyContainer, context: Context): EnvVar[] {
  const vars = envFromVars(container, context);
  for (const envVar of container.env ?? []) {
    const value = envVarValue(envVar, vars, container, context);
    if (value !== undefined) vars.set(envVar.name, value);
  }
  for (const [name, value] of context.serviceEnv) {
    if (!vars.has(name)) vars.set(name, value);
  }
  return [...vars.keys()].sort().map((name) => ({ name, value: vars.get(name)! }));
}

function envFromVars(container: AnyContainer, context: Context): Map<string, string> {
  const vars = new Map<string, string>();
  const invalid = new Set<string>();
  for (const source of container.envFrom ?? []) {
    for (const [key, value] of Object.entries(envFromData(source, context))) {
      const name = (source.prefix ?? "") + key;
      if (ENV_VAR_NAME.test(name)) vars.set(name, value);
      else invalid.add(name);
    }
  }
  if (invalid.size > 0) {
    context.emit({
      type: "Warning",
      reason: "InvalidEnvironmentVariableNames",
      message: `keys [${
        [...invalid].sort().join(", ")
      }] from envFrom of container "${container.name}" were skipped: expected environment variable names matching ${ENV_VAR_NAME.source}`,
    });
  }
  return vars;
}

function envFromData(source: EnvFromSource, context: Context): Record<string, string> {
  if (source.configMapRef) {
    const { name = "", optional = false } = source.configMapRef;
    return lookup(context, "ConfigMap", name, optional)?.data ?? {};
  }
  if (source.secretRef) {
    const { name = "", optional = false } = source.secretRef;
    const data = lookup(context, "Secret", name, optional)?.data ?? {};
    return Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, secretValue(context, name, key, value)]),
    );
  }
  return {};
}

/** The ConfigMap or Secret `name` of the pod's namespace, or undefined when it is optional and missing. */
function lookup(
  context: Context,
  kind: SourceKind,
  name: string,
  optional: boolean,
): { data?: Record<string, string> } | undefined {
  const namespace = context.pod.metadata?.namespace ?? "";
  let object: ConfigMap | Secret | undefined;
  try {
    object = kind === "ConfigMap"
      ? context.sources.getConfigMap(namespace, name)
      : context.sources.getSecret(namespace, name);
  } catch (error) {
    const message = `cannot read ${kind.toLowerCase()} "${namespace}/${name}": ${
      errorMessage(error)
    }`;
    if (!optional) fail(context, `FailedToReadMandatory${kind}`, message);
    context.emit({ type: "Warning", reason: `FailedToReadOptional${kind}`, message });
    return undefined;
  }
  if (object) return object;
  if (!optional) {
    fail(context, `Mandatory${kind}NotFound`, `${kind.toLowerCase()} "${name}" not found`);
  }
  context.emit({
    type: "Warning",
    reason: `Optional${kind}NotFound`,
    message:
      `${kind.toLowerCase()} "${namespace}/${name}" not found; skipping the optional reference`,
  });
  return undefined;
}

function keyValue(
  context: Context,
  kind: SourceKind,
  selector: { name?: string; key: string; optional?: boolean },
  varName: string,
): string | undefined {
  const { name = "", key, optional = false } = selector;
  const object = lookup(context, kind, name, optional);
  if (!object) return undefined;
  const raw = own(object.data, key);
  if (raw !== undefined) return kind === "Secret" ? secretValue(context, name, key, raw) : raw;
  const noun = kind.toLowerCase();
  if (!optional) {
    fail(
      context,
      `Mandatory${kind}KeyNotFound`,
      `${noun} "${name}" doesn't contain the "${key}" key required by pod ${podName(context.pod)}`,
    );
  }
  context.emit({
    type: "Warning",
    reason: `Optional${kind}KeyNotFound`,
    message: `${noun} "${context.pod.metadata?.namespace ?? ""}/${name}" has no key "${key}"; ` +
      `skipping optional variable "${varName}"`,
  });
  return undefined;
}

function secretValue(context: Context, name: string, key: string, base64: string): string {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    fail(
      context,
      "InvalidSecretData",
      `secret "${name}" key "${key}": expected base64 data, found ${JSON.stringify(base64)}`,
    );
  }
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The value of one `env` entry, or undefined when an optional reference is missing. */
function envVarValue(
  envVar: EnvVar,
  vars: Map<string, string>,
  container: AnyContainer,
  context: Context,
): string | undefined {
  if (envVar.value) {
    return expand(envVar.value, (name) => vars.get(name) ?? context.serviceEnv.get(name));
  }
  const from = envVar.valueFrom;
  if (from?.configMapKeyRef) {
    return keyValue(context, "ConfigMap", from.configMapKeyRef, envVar.name);
  }
  if (from?.secretKeyRef) return keyValue(context, "Secret", from.secretKeyRef, envVar.name);
  if (from?.fieldRef) {
    return downward(context, () => fieldRefValue(context.pod, from.fieldRef!, envVar.name));
  }
  if (from?.resourceFieldRef) {
    const selector = from.resourceFieldRef;
    return downward(context, () =>
      resourceFieldRefValue(selector, envVar.name, {
        pod: context.pod,
        container,
        nodeAllocatable: context.nodeAllocatable,
      }));
  }
  return "";
}

/**
 * Expands `$(NAME)` with `lookup`, as the kubelet does: `$$` is an escaped `$`,
 * and a reference to an unknown name or without a closing parenthesis stays as written.
 */
function expand(input: string, lookup: (name: string) => string | undefined): string {
  let output = "";
  let cursor = 0;
  while (cursor < input.length) {
    const dollar = input.indexOf("$", cursor);
    if (dollar < 0 || dollar === input.length - 1) break;
    output += input.slice(cursor, dollar);
    const next = input[dollar + 1];
    const close = next === "(" ? input.indexOf(")", dollar + 2) : -1;
    if (next === "$") {
      output += "$";
      cursor = dollar + 2;
    } else if (close >= 0) {
      const name = input.slice(dollar + 2, close);
      output += lookup(name) ?? `$(${name})`;
      cursor = close + 1;
    } else {
      output += "$" + next;
      cursor = dollar + 2;
    }
  }
  return output + input.slice(cursor);
}
