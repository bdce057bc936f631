/**
 * The provider's view of the node's own cluster (`ClusterReader` of the contract): the
 * node's pods, ConfigMaps and Secrets from the same shared informers the pod controller
 * reads, so a provider that copies what pods reference (the `kubernetes` provider) adds no
 * watch and no request.
 *
 * @module
 */

import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import {
  CONFIG_MAPS,
  type Informer,
  type KubeObject,
  PODS,
  SECRETS,
  type SharedInformerFactory,
} from "../kube/mod.ts";
import type { ClusterObjectChange, ClusterReader } from "../provider.ts";

function changeOf(kind: ClusterObjectChange["kind"], object: KubeObject): ClusterObjectChange {
  return { kind, namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "" };
}

/** A `ClusterReader` over the informers of `informers` for the pods of node `nodeName`. */
export function informerClusterReader(
  informers: SharedInformerFactory,
  nodeName: string,
): ClusterReader {
  const pods: Informer<Pod> = informers.informer<Pod>(PODS, {
    fieldSelector: `spec.nodeName=${nodeName}`,
  });
  const configMaps = informers.informer<ConfigMap>(CONFIG_MAPS);
  const secrets = informers.informer<Secret>(SECRETS);
  return {
    getPod: (namespace, name) => pods.store.get(`${namespace}/${name}`),
    getConfigMap: (namespace, name) => configMaps.store.get(`${namespace}/${name}`),
    getSecret: (namespace, name) => secrets.store.get(`${namespace}/${name}`),
    async waitForSync(signal) {
      for (const informer of [pods, configMaps, secrets] as Informer<KubeObject>[]) {
        if (!(await informer.waitForSync(signal))) return false;
      }
      return true;
    },
    onChange(signal, callback) {
      const watch = (kind: ClusterObjectChange["kind"], informer: Informer<KubeObject>) => {
        const tell = (object: KubeObject) => {
          if (!signal.aborted) callback(changeOf(kind, object));
        };
        informer.addHandlers({
          onAdd: tell,
          onUpdate: (before, after) => {
            if (before !== after) tell(after);
          },
          onDelete: tell,
        });
      };
      watch("ConfigMap", configMaps as Informer<KubeObject>);
      watch("Secret", secrets as Informer<KubeObject>);
    },
  };
}
