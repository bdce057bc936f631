/**
 * Delegated authentication and authorization through the API server, as the
 * kubelet and aggregated API servers do: TokenReview for bearer tokens,
 * SubjectAccessReview for decisions, and the client CA the cluster publishes
 * in `kube-system/extension-apiserver-authentication`.
 *
 * @module
 */

import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import type { TokenReview } from "kubernetes-types/authentication/v1.d.ts";
import type { SubjectAccessReview } from "kubernetes-types/authorization/v1.d.ts";
import {
  CONFIG_MAPS,
  type KubeClient,
  SUBJECT_ACCESS_REVIEWS,
  TOKEN_REVIEWS,
} from "../kube/mod.ts";
import type { SubjectAccessReviewer, TokenReviewer } from "./auth.ts";

/** Asks the API server who owns a bearer token. */
export function apiTokenReviewer(client: KubeClient): TokenReviewer {
  return async (token, signal) => {
    const review = await client.resource<TokenReview>(TOKEN_REVIEWS).create({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    }, { signal });
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) {
      return { authenticated: false, reason: status?.error || "token not recognised" };
    }
    return {
      authenticated: true,
      user: {
        name: status.user.username,
        uid: status.user.uid,
        groups: status.user.groups ?? [],
        extra: status.user.extra,
      },
    };
  };
}

/** Asks the API server whether a user may use `nodes/<subresource>` of this node. */
export function apiSubjectAccessReviewer(client: KubeClient): SubjectAccessReviewer {
  return async (attributes, signal) => {
    const review = await client.resource<SubjectAccessReview>(SUBJECT_ACCESS_REVIEWS).create({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: attributes.user,
        groups: attributes.groups,
        uid: attributes.uid,
        extra: attributes.extra,
        resourceAttributes: {
          verb: attributes.verb,
          resource: attributes.resource,
          subresource: attributes.subresource,
          name: attributes.name,
          group: "",
          version: "v1",
        },
      },
    }, { signal });
    return {
      allowed: review.status?.allowed === true,
      reason: review.status?.reason ?? review.status?.evaluationError ?? "",
    };
  };
}

/**
 * Reads the client CA bundle the cluster publishes for delegated
 * authentication (`client-ca-file` of `kube-system/extension-apiserver-authentication`).
 */
export async function publishedClientCa(client: KubeClient, signal?: AbortSignal): Promise<string> {
  const configMap = await client.resource<ConfigMap>(CONFIG_MAPS, "kube-system").get(
    "extension-apiserver-authentication",
    { signal },
  );
  const bundle = configMap.data?.["client-ca-file"];
  if (!bundle) {
    throw new Error(
      "kube-system/extension-apiserver-authentication has no client-ca-file: expected the API " +
        "server's --client-ca-file; pass --client-ca to name the CA of kubelet clients",
    );
  }
  return bundle;
}
