/**
 * The HTTPS kubelet API served by the agent: server, route table (plain and upgrade routes),
 * authentication/authorization hooks and the one step that applies them, certificates and
 * the helpers providers use to produce resource metrics.
 *
 * @module
 */

export {
  KubeletApiServer,
  type KubeletApiServerOptions,
  type ListeningAddress,
  type StartOptions,
} from "./server.ts";
export {
  type PlainHandler,
  type Route,
  type RouteContext,
  type RouteResolution,
  RouteTable,
  type UpgradeContext,
  type UpgradeHandler,
} from "./routes.ts";
export {
  AccessCheck,
  type AccessCheckOptions,
  type AccessRequest,
  type AccessResult,
} from "./access.ts";
export {
  type AccessDecision,
  anonymousUser,
  authenticatedGroup,
  type AuthenticationResult,
  type Authenticator,
  type AuthenticatorOptions,
  type Authorizer,
  createAlwaysAllowAuthorizer,
  createAuthenticator,
  createWebhookAuthorizer,
  type Credentials,
  type NodeAccessAttributes,
  type NodeSubresource,
  type PeerCertificate,
  type SubjectAccessReviewer,
  subresourcesForPath,
  type TokenReviewer,
  type TokenReviewResult,
  unauthenticatedGroup,
  type UserInfo,
  verbForMethod,
  type WebhookAuthorizerOptions,
} from "./auth.ts";
export {
  type CertificateAndKey,
  type CertificateSubject,
  type CertificateUsage,
  createCertificateAuthority,
  generateServingCertificate,
  issueCertificate,
  type IssueCertificateOptions,
  pemBlocks,
  type ServingCertificate,
} from "./tls.ts";
export {
  errorResponse,
  failureOf,
  HttpError,
  type HttpFailure,
  statusForError,
  statusResponse,
} from "./http_errors.ts";
export { logQuerySchema, parseLogQuery } from "./logs.ts";
export { formatMetricFamilies, prometheusTextContentType } from "../metrics/mod.ts";
export { resourceMetricsFromSummary, type ResourceMetricsOptions } from "./resource_metrics.ts";
