/**
 * Authentication and authorization of one kubelet API request as a single step, shared by
 * plain requests and connection upgrades: the credentials identify the user (401 otherwise),
 * then each node subresource of the path is asked in turn with the method's verb until one
 * is allowed (403 with the last denial otherwise, 500 when the authorizer fails).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import {
  type Authenticator,
  type Authorizer,
  type Credentials,
  type NodeAccessAttributes,
  subresourcesForPath,
  type UserInfo,
  verbForMethod,
} from "./auth.ts";

const logger = getLogger(["vkedge", "kubelet_api"]);

/** The request facts access is decided on. */
export interface AccessRequest {
  /** HTTP method; its verb is authorized (GET → get, POST → create, …). */
  method: string;
  /** URL path; it picks the node subresources. */
  path: string;
  /** Client certificate and bearer token of the caller. */
  credentials: Credentials;
}

/** The outcome: the user, or the status and text to refuse with. */
export type AccessResult =
  | { allowed: true; user: UserInfo }
  | { allowed: false; status: 401 | 403 | 500; message: string };

/** Options of {@linkcode AccessCheck}. */
export interface AccessCheckOptions {
  /** Node name: the `name` of every authorization check. */
  nodeName: string;
  /** Identifies callers. */
  authenticator: Authenticator;
  /** Authorizes callers on `nodes/<subresource>`. */
  authorizer: Authorizer;
}

/** Decides, as the kubelet in webhook mode does, whether a request may proceed and as whom. */
export class AccessCheck {
  readonly #options: AccessCheckOptions;

  /** Creates the check for one node. */
  constructor(options: AccessCheckOptions) {
    this.#options = options;
  }

  /** Authenticates the caller of `request`, then authorizes it on the path's subresources. */
  async check(request: AccessRequest, signal: AbortSignal): Promise<AccessResult> {
    const { method, path } = request;
    let authentication;
    try {
      authentication = await this.#options.authenticator.authenticate(request.credentials, signal);
    } catch (error) {
      logger.warn("authentication error for {method} {path}: {error}", {
        method,
        path,
        error: errorMessage(error),
      });
      return { allowed: false, status: 401, message: "Unauthorized" };
    }
    if (!authentication.authenticated) {
      logger.debug("unauthenticated {method} {path}: {reason}", {
        method,
        path,
        reason: authentication.reason,
      });
      return { allowed: false, status: 401, message: "Unauthorized" };
    }
    const user = authentication.user;
    const verb = verbForMethod(method);
    let denial = "";
    let lastAttributes: NodeAccessAttributes | undefined;
    for (const subresource of subresourcesForPath(path)) {
      const attributes: NodeAccessAttributes = {
        user: user.name,
        groups: user.groups,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        ...(user.extra === undefined ? {} : { extra: user.extra }),
        verb,
        resource: "nodes",
        subresource,
        name: this.#options.nodeName,
      };
      lastAttributes = attributes;
      const describe =
        `user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource}`;
      try {
        const decision = await this.#options.authorizer.authorize(attributes, signal);
        if (decision.allowed) return { allowed: true, user };
        denial = `Forbidden (${describe})${decision.reason ? `: ${decision.reason}` : ""}`;
      } catch (error) {
        logger.warn("authorization error ({describe}): {error}", {
          describe,
          error: errorMessage(error),
        });
        return { allowed: false, status: 500, message: `Authorization error (${describe})` };
      }
    }
    logger.debug("forbidden {method} {path}: {denial}", {
      method,
      path,
      denial,
      attributes: lastAttributes,
    });
    return { allowed: false, status: 403, message: denial };
  }
}
