/**
 * Shapes shared by the client, watch, store, reflector and informer modules.
 *
 * @module
 */

import type { ListMeta, ObjectMeta } from "kubernetes-types/meta/v1.d.ts";

/** Any Kubernetes object: what the client reads and writes. */
export interface KubeObject {
  /** The object's API version, e.g. `v1` or `coordination.k8s.io/v1`. */
  apiVersion?: string;
  /** The object's kind, e.g. `Pod`. */
  kind?: string;
  /** Standard object metadata. */
  metadata?: ObjectMeta;
}

/** A list response: the items and the list metadata (resourceVersion, continue). */
export interface KubeList<T> {
  /** The list's API version. */
  apiVersion?: string;
  /** The list's kind, e.g. `PodList`. */
  kind?: string;
  /** The collection's resourceVersion and continue token. */
  metadata: ListMeta;
  /** The objects of this page. */
  items: T[];
}

/** Selectors shared by list and watch calls. */
export interface SelectorOptions {
  /** A label selector such as `app=web,tier!=db`. */
  labelSelector?: string;
  /** A field selector such as `spec.nodeName=node-1`. */
  fieldSelector?: string;
}

/** Options of a list call; `limit` and `continue` page through large collections. */
export interface ListOptions extends SelectorOptions {
  /** The maximum number of items in one page. */
  limit?: number;
  /** The continue token of the previous page. */
  continue?: string;
  /** The resourceVersion to list at (e.g. `0` to read from the watch cache). */
  resourceVersion?: string;
  /** How `resourceVersion` is matched: `NotOlderThan` or `Exact`. */
  resourceVersionMatch?: "NotOlderThan" | "Exact";
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of a watch call. */
export interface WatchOptions extends SelectorOptions {
  /** The resourceVersion to start after; events newer than it are delivered. */
  resourceVersion?: string;
  /** The server ends the watch after this many seconds. */
  timeoutSeconds?: number;
  /** Ask the server for BOOKMARK events (default true). */
  allowWatchBookmarks?: boolean;
  /** Ends the watch; iteration then stops without an error. */
  signal?: AbortSignal;
}
