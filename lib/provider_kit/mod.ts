/**
 * The provider kit: the generic parts every provider needs, written once. A provider is
 * its backend client, its pod ↔ backend mapping and a thin class over this kit:
 *
 * - `PodStatusReporter` and `pollPodStatus`: `notifyPods` from one list per interval,
 *   passing on only changes; `CallbackSet` for `notifyNodeStatus`;
 * - `streamLogLines`: `getContainerLogs` with every kubelet log option, over the lines the
 *   provider holds;
 * - `parseProviderConfig` and `readSecret`: the configuration validated once, every bad
 *   field named;
 * - `describeNode`: the `configureNode` merge;
 * - `workloadUid`: the identity a VM-Pod's backend resource is keyed by, which outlives
 *   the pod object;
 * - `cloudConfigOf`: a pod's cloud-init user data (its own `#cloud-config` or `#!` script,
 *   hostname, env, command), with the pieces (`podHostname`, `expandVariables`,
 *   `shellQuote`, `base64Utf8`) for providers that write the document their own way;
 * - `fitPodSpec`, `unpackPodSpec` and `podFromStoredSpec`: the pod spec a backend resource
 *   remembers (base64(gzip(JSON)), trimmed to the provider's storage) and the pod rebuilt
 *   from it after a restart;
 * - small helpers every provider wants: error text, canonical JSON, sleeps, times,
 *   quantities, QoS class, resource metrics from a stats summary;
 * - the agent's Kubernetes client (`KubeClient`, kubeconfig loading, informers, typed
 *   errors), for a provider whose backend is itself a cluster.
 *
 * The kit imports only from `lib/`; it never imports a provider.
 *
 * @module
 */

export { CallbackSet } from "./callbacks.ts";
export { Limiter } from "./limiter.ts";
export { PodStatusReporter } from "./status_reporter.ts";
export { podKey } from "../pods/compare.ts";
export { pollPodStatus, type PollPodStatusOptions } from "./status_poller.ts";
export {
  formatLogTimestamp,
  type LogLine,
  type LogLineSource,
  streamLogLines,
} from "./log_stream.ts";
export {
  describeConfigIssues,
  parseProviderConfig,
  type ParseProviderConfigOptions,
  processSecretSources,
  readSecret,
  type ReadSecretOptions,
  type SecretRef,
  type SecretSources,
} from "./config.ts";
export { describeNode, type NodeDescription } from "./node.ts";
export { qosClassOf } from "./pod_qos.ts";
export {
  base64Utf8,
  cloudConfigOf,
  type CloudConfigOptions,
  expandVariables,
  findPodUserData,
  podHostname,
  type PodUserData,
  shellQuote,
} from "./cloud_init.ts";
export {
  fitPodSpec,
  type FitPodSpecOptions,
  type FittedPodSpec,
  packPodSpec,
  podFromStoredSpec,
  type PodFromStoredSpecOptions,
  type StoredPodIdentity,
  type StoredPodSpec,
  unpackPodSpec,
} from "./stored_spec.ts";
export {
  evictionOf,
  sameWorkload,
  VM_POD_ANNOTATIONS,
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
  workloadUid,
} from "./workload.ts";
export { asError, errorMessage } from "../errors.ts";
export { canonicalJson } from "../canonical_json.ts";
export { cloneJson } from "../clone_json.ts";
export { abortableSleep, sleep } from "../sleep.ts";
export { formatTime } from "../kube/micro_time.ts";
export { parseQuantity, quantityMilliValue, quantityValue } from "../quantity.ts";
export { resourceMetricsFromSummary } from "../kubelet_api/resource_metrics.ts";
export type * from "../stats_types.ts";
export { counter, gauge, histogram } from "../metrics/mod.ts";
export {
  type ClientConfig,
  CONFIG_MAPS,
  Informer,
  type InformerHandlers,
  KubeAlreadyExistsError,
  KubeApiError,
  KubeBadRequestError,
  KubeClient,
  type KubeClientOptions,
  KubeConfigError,
  KubeConflictError,
  KubeForbiddenError,
  KubeInvalidError,
  type KubeList,
  KubeNotFoundError,
  type KubeObject,
  KubeTooManyRequestsError,
  KubeUnauthorizedError,
  KubeUnavailableError,
  loadInClusterConfig,
  loadKubeConfig,
  NAMESPACES,
  NODES,
  PODS,
  type ResourceDescriptor,
  SECRETS,
  type Store,
} from "../kube/mod.ts";
