/**
 * Making a pod's services what its spec says: a service created for each container that
 * has none, updated when its labels or env differ (Swarm restarts the task only when the
 * task template changed), removed for a container the pod no longer has. A service name
 * already taken (an interrupted create of this same pod) is adopted when its labels name
 * the same pod UID, and refused as `AlreadyExistsError` otherwise.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { AlreadyExistsError, isAlreadyExists, isNotFound } from "../../lib/provider.ts";
import type { Service, ServiceSpec } from "./api_types.ts";
import type { EngineClient } from "./client.ts";
import { toProviderError } from "./errors.ts";
import { identityOf } from "./identity.ts";
import { type ServiceContext, serviceSpecFor, validatePod } from "./pod_to_service.ts";
import type { TrackedPod } from "./service_tracker.ts";

/** What the sync did, for logs and tests. */
export interface SyncResult {
  created: string[];
  updated: string[];
  removed: string[];
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function sameList(a: string[] | null | undefined, b: string[] | null | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** Whether `service` already is what `spec` asks for. */
export function serviceMatches(service: Service, spec: ServiceSpec): boolean {
  return sameLabels(service.Spec.Labels, spec.Labels) &&
    service.Spec.TaskTemplate.ContainerSpec?.Image === spec.TaskTemplate.ContainerSpec.Image &&
    sameList(service.Spec.TaskTemplate.ContainerSpec?.Env, spec.TaskTemplate.ContainerSpec.Env);
}

/** A service as it is after `spec` was sent (for the tracker until the next list). */
function asService(id: string, spec: ServiceSpec, previous?: Service): Service {
  return {
    ID: id,
    Version: previous?.Version ?? { Index: 0 },
    CreatedAt: previous?.CreatedAt ?? new Date().toISOString(),
    Spec: {
      Name: spec.Name,
      Labels: spec.Labels,
      TaskTemplate: {
        ContainerSpec: {
          Image: spec.TaskTemplate.ContainerSpec.Image,
          Env: spec.TaskTemplate.ContainerSpec.Env,
        },
      },
    },
  };
}

/** Options of {@linkcode syncPodServices}. */
export interface SyncPodServicesOptions {
  client: EngineClient;
  context: ServiceContext;
  /** What the tracker knows of the pod, if anything. */
  tracked: TrackedPod | undefined;
  /** Told of each service created or updated. */
  put(service: Service): void;
  /** Told of each service removed. */
  removed(id: string): void;
}

async function createOrAdopt(
  options: SyncPodServicesOptions,
  pod: Pod,
  spec: ServiceSpec,
  signal: AbortSignal,
): Promise<{ service: Service; created: boolean }> {
  const { client } = options;
  const what = `creating Swarm service ${spec.Name} for pod ${pod.metadata!.namespace}/${
    pod.metadata!.name
  }`;
  try {
    const id = await client.createService(spec, signal);
    return { service: asService(id, spec), created: true };
  } catch (error) {
    const classified = toProviderError(error, what);
    if (!isAlreadyExists(classified)) throw classified;
  }
  let existing: Service;
  try {
    existing = await client.inspectService(spec.Name, signal);
  } catch (error) {
    throw toProviderError(error, `${what}: the name is taken; reading that service`);
  }
  const identity = identityOf(existing.Spec.Labels);
  if (identity?.uid !== pod.metadata!.uid) {
    throw new AlreadyExistsError(
      `${what}: expected the name free or taken by this pod (uid ${
        pod.metadata!.uid
      }), found it taken by ${
        identity ? `pod uid ${identity.uid}` : "a service vkedge does not own"
      }`,
    );
  }
  return { service: existing, created: false };
}

/** Creates, updates and removes the services of `pod` until they match it. */
export async function syncPodServices(
  options: SyncPodServicesOptions,
  pod: Pod,
  signal: AbortSignal,
): Promise<SyncResult> {
  const { client, context, tracked } = options;
  const valid = validatePod(pod);
  const result: SyncResult = { created: [], updated: [], removed: [] };
  const wanted = new Set(valid.containers.map((container) => container.name));
  for (let index = 0; index < valid.containers.length; index++) {
    const spec = serviceSpecFor(pod, index, context);
    const current = tracked?.services.get(valid.containers[index].name);
    if (current === undefined) {
      const { service, created } = await createOrAdopt(options, pod, spec, signal);
      options.put(service);
      if (created) {
        result.created.push(spec.Name);
        continue;
      }
      if (serviceMatches(service, spec)) continue;
      await update(service, spec);
      continue;
    }
    if (serviceMatches(current, spec)) continue;
    await update(current, spec);
  }
  for (const [container, service] of tracked?.services ?? []) {
    if (wanted.has(container)) continue;
    try {
      await client.removeService(service.ID, signal);
    } catch (error) {
      const classified = toProviderError(error, `removing Swarm service ${service.Spec.Name}`);
      if (!isNotFound(classified)) throw classified;
    }
    options.removed(service.ID);
    result.removed.push(service.Spec.Name);
  }
  return result;

  async function update(service: Service, spec: ServiceSpec): Promise<void> {
    const what = `updating Swarm service ${spec.Name}`;
    try {
      // The version must be the current one: read it, then update at it.
      const fresh = await client.inspectService(service.ID, signal);
      await client.updateService(service.ID, fresh.Version.Index, spec, signal);
      options.put(asService(service.ID, spec, fresh));
      result.updated.push(spec.Name);
    } catch (error) {
      throw toProviderError(error, what);
    }
  }
}

/** Removes every service of `tracked`; a service already gone counts as removed. */
export async function removePodServices(
  client: EngineClient,
  tracked: TrackedPod,
  removed: (id: string) => void,
  signal: AbortSignal,
): Promise<string[]> {
  const names: string[] = [];
  for (const service of tracked.services.values()) {
    try {
      await client.removeService(service.ID, signal);
    } catch (error) {
      const classified = toProviderError(error, `removing Swarm service ${service.Spec.Name}`);
      if (!isNotFound(classified)) throw classified;
    }
    removed(service.ID);
    names.push(service.Spec.Name);
  }
  return names;
}
