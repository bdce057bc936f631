/**
 * The ZStack collections the provider reads (zones, clusters, hosts, images, instance and
 * disk offerings, L3 networks, primary storage, VMs, volumes, volume snapshots, user
 * tags), each with its path,
 * reply schema and a name for messages, and the paged query every read goes through.
 *
 * @module
 */

import type { z } from "zod";
import {
  diskOfferingSchema,
  hostSchema,
  imageSchema,
  instanceOfferingSchema,
  l3NetworkSchema,
  primaryStorageSchema,
  queryReplySchema,
  userTagSchema,
  type VmInstance,
  vmInstanceSchema,
  volumeSchema,
  volumeSnapshotSchema,
  zoneOrClusterSchema,
} from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { toProviderError } from "./errors.ts";
import { buildQueryString, eq, type QueryCondition } from "./query.ts";

/** Page size of the VM and tag queries. */
export const pageSize = 500;
/** Uuids per `?=` condition, to keep URLs short. */
export const uuidsPerQuery = 100;

/** One queryable collection. */
export interface Collection<S extends z.ZodType> {
  /** Path of its query API, such as `/v1/zones`. */
  path: string;
  /** Schema of one inventory. */
  schema: S;
  /** What one item is called in messages, such as `L3 network`. */
  kind: string;
}

/** Zones. */
export const zones = { path: "/v1/zones", schema: zoneOrClusterSchema, kind: "zone" };
/** Clusters. */
export const clusters = { path: "/v1/clusters", schema: zoneOrClusterSchema, kind: "cluster" };
/** Hosts (hypervisors). */
export const hosts = { path: "/v1/hosts", schema: hostSchema, kind: "host" };
/** Images. */
export const images = { path: "/v1/images", schema: imageSchema, kind: "image" };
/** Instance offerings. */
export const instanceOfferings = {
  path: "/v1/instance-offerings",
  schema: instanceOfferingSchema,
  kind: "instance offering",
};
/** Disk offerings. */
export const diskOfferings = {
  path: "/v1/disk-offerings",
  schema: diskOfferingSchema,
  kind: "disk offering",
};
/** Primary storage. */
export const primaryStorages = {
  path: "/v1/primary-storage",
  schema: primaryStorageSchema,
  kind: "primary storage",
};
/** L3 networks. */
export const l3Networks = { path: "/v1/l3-networks", schema: l3NetworkSchema, kind: "L3 network" };
/** VM instances. */
export const vmInstances = { path: "/v1/vm-instances", schema: vmInstanceSchema, kind: "VM" };
/** Volumes (root and data disks). */
export const volumes = { path: "/v1/volumes", schema: volumeSchema, kind: "volume" };
/** Volume snapshots. */
export const volumeSnapshots = {
  path: "/v1/volume-snapshots",
  schema: volumeSnapshotSchema,
  kind: "volume snapshot",
};
/** User tags. */
export const userTags = { path: "/v1/user-tags", schema: userTagSchema, kind: "user tag" };

/** Options of {@linkcode queryAll}. */
export interface QueryAllOptions {
  /** Conditions, ANDed. */
  conditions: QueryCondition[];
  /** Aborts the query. */
  signal: AbortSignal;
}

/** Every item of `collection` matching the conditions, page by page. */
export async function queryAll<S extends z.ZodType>(
  client: ZStackClient,
  collection: Collection<S>,
  options: QueryAllOptions,
): Promise<z.output<S>[]> {
  const { conditions, signal } = options;
  const all: z.output<S>[] = [];
  for (let start = 0;; start += pageSize) {
    const reply = await client.get(collection.path, {
      query: buildQueryString({ conditions, limit: pageSize, start, replyWithCount: true }),
      schema: queryReplySchema(collection.schema),
      signal,
    });
    all.push(...reply.inventories);
    const total = reply.total ?? all.length;
    if (reply.inventories.length < pageSize || all.length >= total) return all;
  }
}

/** The VM `uuid`, or `undefined` when ZStack has none; failures are contract errors. */
export async function getVm(
  client: ZStackClient,
  uuid: string,
  options: { signal: AbortSignal },
): Promise<VmInstance | undefined> {
  try {
    const reply = await client.get(vmInstances.path, {
      query: buildQueryString({ conditions: [eq("uuid", uuid)], limit: 1 }),
      schema: queryReplySchema(vmInstanceSchema),
      signal: options.signal,
    });
    return reply.inventories[0];
  } catch (error) {
    throw toProviderError(error, `zstack provider: reading VM ${uuid}`);
  }
}
