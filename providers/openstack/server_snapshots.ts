/**
 * Snapshots of the server behind a pod (`VirtualMachineSnapshots`), as Glance images made
 * by Nova's `createImage`. Each carries the properties `vkedge_server` (the server id) and
 * `vkedge_snapshot` (the snapshot's name), so one `GET /v2/images?vkedge_server=<id>` lists
 * every snapshot of a server, and a create repeated after an agent crash finds the image
 * the first one made (Nova creates the image record before it answers) instead of taking
 * a second; creates of one name in one process share one call. A snapshot is ready once
 * its image is `active` (the hypervisor uploaded it), failed once it is `killed` or gone.
 *
 * A restore is a rebuild of the server from the snapshot image (`rebuild`), which keeps
 * the server's id, ports and metadata; vkedge asks it only of a stopped server, and Nova
 * leaves a stopped server stopped after it. Deleting a snapshot deletes its image.
 *
 * @module
 */

import {
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import { formatTime, sleep } from "../../lib/provider_kit/mod.ts";
import { anyReplySchema, type Image, imageCreatedSchema, imageListSchema } from "./api_types.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";
import {
  describeServer,
  logAction,
  oneAtATime,
  postAction,
  requesting,
  type ServerActionContext,
  settleServer,
  waitForServer,
} from "./server_action.ts";
import { taskOf } from "./server_to_pod.ts";
import type { TrackedServer } from "./server_tracker.ts";

/** Image property naming the server a snapshot is of. */
export const serverProperty = "vkedge_server";
/** Image property naming the snapshot. */
export const snapshotProperty = "vkedge_snapshot";
/** Longest snapshot name (Glance's limit on image names, less the prefix). */
export const maxSnapshotNameLength = 200;

/** Creates in flight in this process, by server id and name. */
const inFlight = new Map<string, Promise<VirtualMachineSnapshot>>();

function nameOf(image: Image): string {
  const value = image[snapshotProperty];
  return typeof value === "string" ? value : image.name ?? image.id;
}

/** The snapshot an image stands for. */
export function snapshotOf(image: Image, now: Date): VirtualMachineSnapshot {
  const failed = ["killed", "deleted", "pending_delete", "deactivated"].includes(image.status);
  return {
    id: image.id,
    name: nameOf(image),
    createdAt: image.created_at ? formatTime(new Date(image.created_at)) : formatTime(now),
    ready: image.status === "active",
    ...(failed ? { error: `image ${image.id} is ${image.status}` } : {}),
    ...(image.size ? { sizeBytes: image.size } : {}),
  };
}

async function snapshotImages(
  context: ServerActionContext,
  tracked: TrackedServer,
  signal: AbortSignal,
): Promise<Image[]> {
  const images: Image[] = [];
  let path: string | undefined = "/v2/images";
  let query: Record<string, string> | undefined = {
    [serverProperty]: tracked.server.id,
    limit: "100",
  };
  while (path !== undefined) {
    const reply: { value: { images: Image[]; next?: string | null } } = await context.client
      .request("image", "GET", path, { query, schema: imageListSchema, signal });
    images.push(...reply.value.images);
    const next: string | null | undefined = reply.value.next;
    path = next ?? undefined;
    query = undefined;
  }
  return images.filter((image) => image[serverProperty] === tracked.server.id);
}

/** The snapshots of the tracked server, oldest first. */
export async function listSnapshots(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { signal: AbortSignal },
): Promise<VirtualMachineSnapshot[]> {
  try {
    const now = new Date(context.now());
    return (await snapshotImages(context, tracked, options.signal))
      .map((image) => snapshotOf(image, now))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  } catch (error) {
    throw toProviderError(
      error,
      `openstack provider: listing snapshots of ${describeServer(tracked)}`,
    );
  }
}

async function imageNamed(
  context: ServerActionContext,
  tracked: TrackedServer,
  name: string,
  signal: AbortSignal,
): Promise<Image | undefined> {
  return (await snapshotImages(context, tracked, signal)).find((image) => nameOf(image) === name);
}

function checkName(name: string, what: string): void {
  if (name.length === 0 || name.length > maxSnapshotNameLength || name.trim() !== name) {
    throw new InvalidInputError(
      `openstack provider: snapshot of ${what}: expected a name of 1 to ${maxSnapshotNameLength} characters without surrounding spaces, found "${name}"`,
    );
  }
}

async function take(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { name: string; signal: AbortSignal },
): Promise<VirtualMachineSnapshot> {
  const { name, signal } = options;
  const what = describeServer(tracked);
  let image = await imageNamed(context, tracked, name, signal);
  if (image === undefined) {
    const created = await oneAtATime(tracked, async () => {
      const again = await imageNamed(context, tracked, name, signal);
      if (again !== undefined) return again.id;
      await settleServer(context, tracked, { signal });
      logAction(context, tracked, `snapshot "${name}" requested (createImage)`);
      try {
        const reply = await context.client.request(
          "compute",
          "POST",
          `/servers/${tracked.server.id}/action`,
          {
            body: {
              createImage: {
                name: `vkedge-${tracked.server.name}-${name}`.slice(0, 255),
                metadata: { [serverProperty]: tracked.server.id, [snapshotProperty]: name },
              },
            },
            schema: imageCreatedSchema,
            retry: "once",
            signal,
          },
        );
        return reply.value.image_id;
      } catch (error) {
        // An earlier call's image may have appeared meanwhile.
        const found = await imageNamed(context, tracked, name, signal).catch(() => undefined);
        if (found === undefined) throw error;
        return found.id;
      }
    });
    image = { id: created, status: "queued", name } as Image;
  }
  const deadline = context.now() + context.actionTimeoutMs;
  while (true) {
    const current = await imageNamed(context, tracked, name, signal);
    if (current === undefined) {
      throw new UnavailableError(
        `openstack provider: snapshot "${name}" of ${what}: image ${image.id} vanished while it was being taken; take it again`,
      );
    }
    const snapshot = snapshotOf(current, new Date(context.now()));
    if (snapshot.ready || snapshot.error !== undefined) {
      logAction(
        context,
        tracked,
        snapshot.ready
          ? `snapshot "${name}" ready (image ${snapshot.id})`
          : `snapshot "${name}" failed: ${snapshot.error}`,
      );
      return snapshot;
    }
    if (context.now() > deadline) {
      throw new UnavailableError(
        `openstack provider: snapshot "${name}" of ${what}: image ${current.id} is still ${current.status} after ${
          context.actionTimeoutMs / 1000
        } s`,
      );
    }
    await sleep(context.waitIntervalMs, signal);
  }
}

/**
 * Takes snapshot `name` of the tracked server and resolves once its image is active (or
 * with `error` set when it failed). Idempotent for the same name.
 */
export function takeSnapshot(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { name: string; signal: AbortSignal },
): Promise<VirtualMachineSnapshot> {
  const what = describeServer(tracked);
  try {
    checkName(options.name, what);
  } catch (error) {
    return Promise.reject(error);
  }
  const key = `${tracked.server.id}/${options.name}`;
  let running = inFlight.get(key);
  if (running === undefined) {
    running = take(context, tracked, options).catch((error) => {
      throw toProviderError(
        error,
        `openstack provider: taking snapshot "${options.name}" of ${what}`,
      );
    }).finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

async function imageById(
  context: ServerActionContext,
  tracked: TrackedServer,
  snapshotId: string,
  signal: AbortSignal,
): Promise<Image> {
  const images = await snapshotImages(context, tracked, signal);
  const image = images.find((candidate) => candidate.id === snapshotId);
  if (image === undefined) {
    throw new NotFoundError(
      `openstack provider: snapshot ${snapshotId} of ${
        describeServer(tracked)
      } not found: expected one of ${
        images.length === 0
          ? "its snapshots, found none"
          : images.map((candidate) => `${candidate.id} ("${nameOf(candidate)}")`).join(", ")
      }`,
    );
  }
  return image;
}

/**
 * Rebuilds the stopped server from snapshot `snapshotId` and resolves once it is SHUTOFF
 * again. `InvalidInputError` saying to stop it first when it is not stopped.
 */
export function restoreSnapshot(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<void> {
  return oneAtATime(tracked, () => restore(context, tracked, options));
}

async function restore(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<void> {
  const { snapshotId, signal } = options;
  const what = describeServer(tracked);
  try {
    const image = await imageById(context, tracked, snapshotId, signal);
    const snapshot = snapshotOf(image, new Date(context.now()));
    if (!snapshot.ready) {
      throw new InvalidInputError(
        `openstack provider: restoring snapshot "${snapshot.name}" of ${what}: expected its image active, found it ${image.status}`,
      );
    }
    const server = await settleServer(context, tracked, { signal });
    if (server.status !== "SHUTOFF") {
      throw new InvalidInputError(
        `openstack provider: restoring snapshot "${snapshot.name}" of ${what}: expected the server SHUTOFF, found it ${server.status}; stop it first (vkedge restores only a stopped VM)`,
      );
    }
    await requesting(tracked, ["REBUILD", "ACTIVE", "SHUTOFF"], async () => {
      logAction(context, tracked, `restore of snapshot "${snapshot.name}" requested (rebuild)`);
      await postAction(context, tracked, {
        action: "rebuild",
        params: { imageRef: image.id },
        signal,
      });
      await waitForServer(context, tracked, {
        what: "rebuilding",
        done: (s) => s.status === "SHUTOFF" && taskOf(s) === undefined,
        signal,
      });
    });
    logAction(context, tracked, `rebuilt from snapshot "${snapshot.name}" (image ${image.id})`);
  } catch (error) {
    throw toProviderError(error, `openstack provider: restoring snapshot ${snapshotId} of ${what}`);
  }
}

/** Deletes snapshot `snapshotId` (its image); `NotFoundError` when it is gone. */
export async function deleteSnapshot(
  context: ServerActionContext,
  tracked: TrackedServer,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<void> {
  const { snapshotId, signal } = options;
  const what = describeServer(tracked);
  try {
    const image = await imageById(context, tracked, snapshotId, signal);
    logAction(context, tracked, `delete of snapshot "${nameOf(image)}" requested`);
    await context.client.request("image", "DELETE", `/v2/images/${snapshotId}`, {
      schema: anyReplySchema,
      signal,
    });
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 404) {
      throw new NotFoundError(`openstack provider: snapshot ${snapshotId} of ${what} is gone`);
    }
    throw toProviderError(error, `openstack provider: deleting snapshot ${snapshotId} of ${what}`);
  }
}
