/**
 * A small Kubernetes client for Deno in client-go's shape: config loading,
 * a typed REST client, watch streams, reflector, store, informer and work queue.
 *
 * @example
 * ```ts
 * import { KubeClient, loadClientConfig, PODS } from "./mod.ts";
 * import type { Pod } from "kubernetes-types/core/v1.d.ts";
 *
 * const client = new KubeClient(await loadClientConfig());
 * const pods = await client.resource<Pod>(PODS, "default").list({ limit: 10 });
 * ```
 *
 * @module
 */

export { type ClientConfig, KubeConfigError } from "./client_config.ts";
export { loadClientConfig, type LoadClientConfigOptions } from "./config.ts";
export { loadInClusterConfig, type LoadInClusterConfigOptions } from "./in_cluster_config.ts";
export { loadKubeConfig, type LoadKubeConfigOptions } from "./kubeconfig.ts";
export {
  errorFromStatus,
  type ErrorFromStatusOptions,
  KubeAlreadyExistsError,
  KubeApiError,
  KubeBadRequestError,
  KubeConflictError,
  KubeForbiddenError,
  KubeGoneError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeTooManyRequestsError,
  KubeUnauthorizedError,
  KubeUnavailableError,
  networkError,
} from "./errors.ts";
export { RateLimiter, type RateLimiterOptions } from "./rate_limiter.ts";
export {
  type Admission,
  RequestDispatcher,
  type RequestDispatcherOptions,
  type RequestPriority,
} from "./request_dispatcher.ts";
export * from "./resources.ts";
export { KubeClient, type KubeClientOptions } from "./client.ts";
export type { KubeRequest, QueryParams, RequestSender } from "./request.ts";
export {
  type DeleteCallOptions,
  type GetOptions,
  type PatchOptions,
  type PatchType,
  ResourceClient,
  type WriteOptions,
} from "./resource_client.ts";
export { SubresourceClient, type SubresourceOptions } from "./subresource_client.ts";
export type { KubeList, KubeObject, ListOptions, SelectorOptions, WatchOptions } from "./types.ts";
export {
  parseWatchStream,
  type ResumingWatchOptions,
  type Watchable,
  type WatchErrorEvent,
  type WatchEvent,
  WatchStream,
  type WatchStreamOptions,
  watchWithResume,
} from "./watch.ts";
export { metaKey, type ReplaceDiff, splitMetaKey, Store } from "./store.ts";
export { OwnWrites } from "./own_writes.ts";
export {
  type ListerWatcher,
  Reflector,
  type ReflectorHandler,
  type ReflectorOptions,
} from "./reflector.ts";
export {
  type AddHandlersOptions,
  Informer,
  type InformerHandlers,
  type InformerOptions,
} from "./informer.ts";
export {
  type ResourceSource,
  type SharedInformerEntry,
  SharedInformerFactory,
  type SharedInformerOptions,
  withoutManagedFields,
} from "./shared_informers.ts";
export {
  runWorkers,
  type RunWorkersOptions,
  WorkQueue,
  type WorkQueueOptions,
} from "./work_queue.ts";
export {
  retryOnConflict,
  type RetryOnConflictOptions,
  retryWhileUnavailable,
  type RetryWhileUnavailableOptions,
} from "./retry.ts";
export { formatMicroTime, formatTime, parseKubeTime } from "./micro_time.ts";
