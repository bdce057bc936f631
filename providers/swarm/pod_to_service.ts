/**
 * Pod → Swarm services: whether a pod can run on the Swarm, and the `ServiceSpec` of each
 * of its containers (one replicated service with one replica per container).
 *
 * - Network: every container joins the pod network (an attachable overlay network) with
 *   the alias `<container>.<pod>.<namespace>` and the DNS search domain `<pod>.<namespace>`,
 *   so containers of a pod reach each other by container name; each has the pod's
 *   hostname. A `hostNetwork` pod's containers share the Swarm node's network instead,
 *   and so `localhost`, as in a pod.
 * - Process: image, command (the entrypoint) and args (its arguments) with `$(VAR)`
 *   expanded from the container's env as the kubelet does, env (already resolved by the
 *   agent), working dir, user, TTY and stdin, read-only root, capabilities, the pod's
 *   termination grace period as the stop grace period.
 * - Restart policy: `Always` → `any`, `OnFailure` → `on-failure`, `Never` → `none`.
 * - Resources: limits → Swarm limits, requests (else limits) → reservations, which the
 *   Swarm scheduler places by.
 * - Ports: a `hostPort` is published in host mode on the node running the task (the
 *   ingress routing mesh is not used).
 * - Labels: ownership (see `identity.ts`), and what the agent compares after a restart
 *   (see `stored_spec.ts`).
 *
 * Refused as invalid input: no containers, init containers (a Swarm service has no
 * order), a container without image, a quantity or port that is not one.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import { canonicalJson, quantityMilliValue, quantityValue } from "../../lib/provider_kit/mod.ts";
import type { PortSpec, ResourceSpec, ServiceSpec } from "./api_types.ts";
import {
  type ContainerIdentity,
  type Owner,
  ownershipLabels,
  serviceName,
  shortHash,
} from "./identity.ts";
import { storedLabels } from "./stored_spec.ts";

/** What the mapping needs besides the pod. */
export interface ServiceContext {
  /** Who owns the services. */
  owner: Owner;
  /** ID (or name) of the pod network. */
  podNetwork: string;
  /** Swarm restart delay, in seconds. */
  restartDelaySeconds: number;
  /** Placement constraints of every service. */
  constraints: string[];
}

/** A pod checked for what the Swarm can run. */
export interface ValidatedPod {
  namespace: string;
  name: string;
  uid: string;
  containers: Container[];
}

/** Label holding the hash of the task template without env (secret values stay out). */
export const templateHashLabel = "vkedge.io/template-hash";

function refuse(pod: Pod, what: string): never {
  const key = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  throw new InvalidInputError(`pod ${key}: ${what}`);
}

/** Checks that the Swarm can run `pod`; throws `InvalidInputError` saying what cannot be. */
export function validatePod(pod: Pod): ValidatedPod {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  const uid = pod.metadata?.uid;
  if (!namespace || !name || !uid) {
    refuse(pod, "expected metadata.namespace, name and uid, found one missing");
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) refuse(pod, "expected at least one container, found none");
  if ((pod.spec?.initContainers ?? []).length > 0) {
    refuse(
      pod,
      `expected no init containers, found ${
        pod.spec!.initContainers!.map((c) => c.name).join(", ")
      }: Swarm services start in no order, so the swarm provider cannot run them first`,
    );
  }
  for (const container of containers) {
    if (!container.image) {
      refuse(pod, `container ${container.name}: expected an image, found none`);
    }
    for (const port of container.ports ?? []) {
      const protocol = (port.protocol ?? "TCP").toUpperCase();
      if (!["TCP", "UDP", "SCTP"].includes(protocol)) {
        refuse(
          pod,
          `container ${container.name}: expected port protocol TCP, UDP or SCTP, found ${port.protocol}`,
        );
      }
    }
    resourcesOf(pod, container);
  }
  return { namespace, name, uid, containers };
}

/** Kubernetes' `$(VAR)` expansion: defined variables replaced, `$$` a literal `$`. */
export function expandReferences(text: string, env: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name?: string) => {
    if (match === "$$") return "$";
    return env.has(name!) ? env.get(name!)! : match;
  });
}

function quantity(pod: Pod, container: Container, field: string, value: unknown, milli: boolean) {
  try {
    return milli ? quantityMilliValue(String(value)) : quantityValue(String(value));
  } catch {
    refuse(pod, `container ${container.name}: ${field}: expected a quantity, found "${value}"`);
  }
}

function resourceSpec(
  pod: Pod,
  container: Container,
  field: "limits" | "requests",
  values: Record<string, unknown> | undefined,
): ResourceSpec | undefined {
  const cpu = values?.cpu;
  const memory = values?.memory;
  const spec: ResourceSpec = {};
  if (cpu !== undefined) {
    spec.NanoCPUs = quantity(pod, container, `resources.${field}.cpu`, cpu, true) * 1_000_000;
  }
  if (memory !== undefined) {
    spec.MemoryBytes = quantity(pod, container, `resources.${field}.memory`, memory, false);
  }
  return Object.keys(spec).length === 0 ? undefined : spec;
}

/** Swarm limits and reservations of `container`: requests default to the limits. */
export function resourcesOf(
  pod: Pod,
  container: Container,
): { Limits?: ResourceSpec; Reservations?: ResourceSpec } | undefined {
  const limits = resourceSpec(pod, container, "limits", container.resources?.limits);
  const requests = resourceSpec(
    pod,
    container,
    "requests",
    container.resources?.requests ?? container.resources?.limits,
  ) ?? limits;
  if (limits === undefined && requests === undefined) return undefined;
  return {
    ...(limits ? { Limits: limits } : {}),
    ...(requests ? { Reservations: requests } : {}),
  };
}

function restartCondition(pod: Pod): "none" | "on-failure" | "any" {
  switch (pod.spec?.restartPolicy) {
    case "Never":
      return "none";
    case "OnFailure":
      return "on-failure";
    default:
      return "any";
  }
}

/** The pod's hostname, as its containers see it: `spec.hostname`, else the pod name. */
export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").slice(0, 63).replace(/[.-]+$/, "");
}

/** The DNS alias of a container on the pod network. */
export function containerAlias(identity: ContainerIdentity): string {
  return `${identity.container}.${identity.pod}.${identity.namespace}`;
}

function portsOf(container: Container): PortSpec[] {
  return (container.ports ?? []).filter((port) => port.hostPort !== undefined && port.hostPort > 0)
    .map((port) => ({
      Protocol: (port.protocol ?? "TCP").toLowerCase() as PortSpec["Protocol"],
      TargetPort: port.containerPort,
      PublishedPort: port.hostPort!,
      PublishMode: "host" as const,
    }));
}

/** The `NAME=value` list of a container's (resolved) env. */
export function envList(container: Container): string[] {
  return (container.env ?? []).map((variable) => `${variable.name}=${variable.value ?? ""}`);
}

/** The service spec of container `index` of `pod`, labels included. */
export function serviceSpecFor(pod: Pod, index: number, context: ServiceContext): ServiceSpec {
  const valid = validatePod(pod);
  const container = valid.containers[index];
  const identity: ContainerIdentity = {
    namespace: valid.namespace,
    pod: valid.name,
    uid: valid.uid,
    container: container.name,
  };
  const owner = ownershipLabels(context.owner, identity);
  const env = new Map((container.env ?? []).map((v) => [v.name, v.value ?? ""]));
  const expand = (list: string[] | undefined) =>
    list === undefined || list.length === 0
      ? undefined
      : list.map((text) => expandReferences(text, env));
  const hostNetwork = pod.spec?.hostNetwork === true;
  const security = container.securityContext;
  const grace = pod.spec?.terminationGracePeriodSeconds;
  const resources = resourcesOf(pod, container);
  const ports = hostNetwork ? [] : portsOf(container);
  const spec: ServiceSpec = {
    Name: serviceName(context.owner, identity),
    Labels: {},
    TaskTemplate: {
      ContainerSpec: {
        Image: container.image!,
        Labels: owner,
        ...(expand(container.command) ? { Command: expand(container.command) } : {}),
        ...(expand(container.args) ? { Args: expand(container.args) } : {}),
        ...(hostNetwork ? {} : { Hostname: podHostname(pod) }),
        ...(container.workingDir ? { Dir: container.workingDir } : {}),
        ...(security?.runAsUser !== undefined
          ? {
            User: security.runAsGroup !== undefined
              ? `${security.runAsUser}:${security.runAsGroup}`
              : String(security.runAsUser),
          }
          : {}),
        ...(container.tty ? { TTY: true } : {}),
        ...(container.stdin ? { OpenStdin: true } : {}),
        ...(security?.readOnlyRootFilesystem ? { ReadOnly: true } : {}),
        ...(security?.capabilities?.add?.length
          ? { CapabilityAdd: security.capabilities.add.map(capability) }
          : {}),
        ...(security?.capabilities?.drop?.length
          ? { CapabilityDrop: security.capabilities.drop.map(capability) }
          : {}),
        ...(grace !== undefined ? { StopGracePeriod: grace * 1_000_000_000 } : {}),
        ...(hostNetwork ? {} : { DNSConfig: { Search: [`${valid.name}.${valid.namespace}`] } }),
      },
      ...(resources ? { Resources: resources } : {}),
      RestartPolicy: {
        Condition: restartCondition(pod),
        Delay: Math.round(context.restartDelaySeconds * 1_000_000_000),
        MaxAttempts: 0,
      },
      ...(context.constraints.length > 0
        ? { Placement: { Constraints: [...context.constraints] } }
        : {}),
      Networks: hostNetwork
        ? [{ Target: "host" }]
        : [{ Target: context.podNetwork, Aliases: [containerAlias(identity)] }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: "dnsrr", ...(ports.length > 0 ? { Ports: ports } : {}) },
  };
  const withoutEnv = {
    ...spec.TaskTemplate,
    ContainerSpec: { ...spec.TaskTemplate.ContainerSpec },
  };
  spec.TaskTemplate.ContainerSpec.Env = envList(container);
  spec.Labels = {
    ...owner,
    ...storedLabels(pod, index),
    [templateHashLabel]: shortHash(canonicalJson({ withoutEnv, endpoint: spec.EndpointSpec })),
  };
  return spec;
}

function capability(name: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}
