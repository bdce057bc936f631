/**
 * The downward API of environment variables: `fieldRef` (pod metadata, spec and status
 * fields, labels and annotations formatted as the kubelet does) and `resourceFieldRef`
 * (container limits and requests, rounded up to the divisor). A reference the kubelet
 * would refuse throws an `EnvResolutionError` carrying the event reason.
 *
 * @module
 */

import type {
  Container,
  EphemeralContainer,
  ObjectFieldSelector,
  Pod,
  ResourceFieldSelector,
} from "kubernetes-types/core/v1.d.ts";
import { quantityMilliValue, quantityValue } from "../quantity.ts";
import { errorMessage } from "../errors.ts";
import { EnvResolutionError } from "./env_error.ts";

type AnyContainer = Container | EphemeralContainer;

/** Where a `resourceFieldRef` is evaluated. */
export interface ResourceFieldContext {
  /** The pod. */
  pod: Pod;
  /** The container whose variable it is (the default target). */
  container: AnyContainer;
  /** The node's allocatable resources, for limits the container does not set. */
  nodeAllocatable: Record<string, string>;
}

/** The value of an own property; keys such as `constructor` are data, not the prototype's. */
function own(map: Record<string, string> | undefined, key: string): string | undefined {
  return map && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** The value of a `fieldRef` of variable `varName`: pod metadata, spec and status fields. */
export function fieldRefValue(pod: Pod, selector: ObjectFieldSelector, varName: string): string {
  const path = selector.fieldPath;
  if (selector.apiVersion && selector.apiVersion !== "v1") {
    throw new EnvResolutionError(
      "UnsupportedFieldPath",
      `fieldRef of variable "${varName}": expected apiVersion "v1", found "${selector.apiVersion}"`,
    );
  }
  const subscripted = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (subscripted) {
    const map = subscripted[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return own(map, subscripted[2]) ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "metadata.labels":
      return formatMap(pod.metadata?.labels);
    case "metadata.annotations":
      return formatMap(pod.metadata?.annotations);
    case "spec.nodeName":
    case "spec.host":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
      return pod.status?.hostIP ?? "";
    case "status.hostIPs":
      return pod.status?.hostIPs?.map((ip) => ip.ip).join(",") ?? pod.status?.hostIP ?? "";
    case "status.podIP":
      return pod.status?.podIP ?? "";
    case "status.podIPs":
      return pod.status?.podIPs?.map((ip) => ip.ip).join(",") ?? pod.status?.podIP ?? "";
  }
  throw new EnvResolutionError(
    "UnsupportedFieldPath",
    `fieldRef of variable "${varName}": unsupported fieldPath "${path}"`,
  );
}

/** Formats labels or annotations as the kubelet does: sorted `key="value"` lines, values Go-quoted. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {}).sort().map((key) => `${key}=${goQuote(map![key])}`).join("\n");
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/** A double-quoted string with Go's `%q` escapes for quotes, backslashes and control characters. */
function goQuote(value: string): string {
  let quoted = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (ESCAPES[char]) quoted += ESCAPES[char];
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code >= 0x80 && code < 0xa0) quoted += `\\u${code.toString(16).padStart(4, "0")}`;
    else quoted += char;
  }
  return quoted + '"';
}

/**
 * The value of a `resourceFieldRef`, rounded up to whole divisors (default 1):
 * CPU in cores (or millicores with divisor `1m`), memory, ephemeral storage and
 * huge pages in bytes. A missing limit is the node's allocatable amount if known,
 * else the request, else 0; a missing request is the limit (as the API server
 * defaults it), else 0.
 */
export function resourceFieldRefValue(
  selector: ResourceFieldSelector,
  varName: string,
  context: ResourceFieldContext,
): string {
  const invalid = (detail: string): never => {
    throw new EnvResolutionError(
      "InvalidResourceFieldRef",
      `resourceFieldRef of variable "${varName}": ${detail}`,
    );
  };
  const target = selector.containerName
    ? findContainer(context.pod, selector.containerName)
    : context.container;
  if (!target) {
    return invalid(
      `expected a container named "${selector.containerName}" in pod ${
        context.pod.metadata?.namespace ?? ""
      }/${context.pod.metadata?.name ?? ""}`,
    );
  }
  const match = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-.+)$/.exec(
    selector.resource,
  );
  if (!match) {
    return invalid(
      `expected limits or requests of cpu, memory, ephemeral-storage or hugepages-*, found "${selector.resource}"`,
    );
  }
  const [, kind, resource] = match;
  const limit = target.resources?.limits?.[resource];
  const request = target.resources?.requests?.[resource];
  const amount =
    (kind === "limits"
      ? limit ?? context.nodeAllocatable[resource] ?? request
      : request ?? limit) ?? "0";
  const divisor = selector.divisor || "1";
  try {
    const measure = resource === "cpu" ? quantityMilliValue : quantityValue;
    const per = measure(divisor) === 0 ? measure("1") : measure(divisor);
    return String(Math.ceil(measure(amount) / per));
  } catch (error) {
    return invalid(errorMessage(error));
  }
}

function findContainer(pod: Pod, name: string): AnyContainer | undefined {
  return [
    ...pod.spec?.containers ?? [],
    ...pod.spec?.initContainers ?? [],
    ...pod.spec?.ephemeralContainers ?? [],
  ].find((c) => c.name === name);
}
