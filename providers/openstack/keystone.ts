/**
 * Keystone v3 authentication: a project-scoped token from a password (user, project and
 * their domains) or from an application credential, with its service catalog. The token
 * is renewed before it expires (once a quarter of its life, at most five minutes, is
 * left) and at once when a service answers 401 with it (it was revoked, or the clock of
 * the cloud runs ahead); concurrent callers share one renewal. A refusal by Keystone is
 * `UnauthenticatedError` (not an outage: waiting does not fix a wrong password).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnauthenticatedError, UnavailableError } from "../../lib/provider.ts";
import { counter, errorMessage } from "../../lib/provider_kit/mod.ts";
import { type CatalogEntry, tokenReplySchema } from "./api_types.ts";
import { faultOf } from "./errors.ts";
import type { OpenStackTransport } from "./transport.ts";

const logger = getLogger(["vkedge", "provider", "openstack", "keystone"]);

const loginsTotal = counter({
  name: "vkedge_openstack_logins_total",
  help: "Tokens obtained from Keystone (first authentications and renewals).",
});

/** A user or project named in a domain, or given by id. */
export type Scoped = { id: string } | { name: string; domain: { id: string } | { name: string } };

/** What the agent authenticates with. */
export type KeystoneCredentials =
  | {
    kind: "password";
    user: Scoped;
    password: string;
    /** The project the token is scoped to. */
    project: Scoped;
  }
  | {
    kind: "applicationCredential";
    /** By id, or by name with its user. */
    credential: { id: string } | { name: string; user: Scoped };
    secret: string;
  };

/** A token and what came with it. */
export interface Token {
  /** The `X-Subject-Token`. */
  value: string;
  expiresAt: Date;
  /** When the renewal is due. */
  renewAt: Date;
  catalog: CatalogEntry[];
  projectId?: string;
  projectName?: string;
  userId: string;
  userName?: string;
  roles: string[];
}

/** Options of {@linkcode KeystoneSession}. */
export interface KeystoneSessionOptions {
  /** Keystone v3 URL, such as `https://keystone.example:5000/v3`. */
  authUrl: string;
  credentials: KeystoneCredentials;
  transport: OpenStackTransport;
  /** Clock in milliseconds. */
  now: () => number;
}

function scoped(value: Scoped): Record<string, unknown> {
  return "id" in value ? { id: value.id } : { name: value.name, domain: value.domain };
}

/** The body of `POST /v3/auth/tokens` for `credentials`. */
export function authBody(credentials: KeystoneCredentials): Record<string, unknown> {
  if (credentials.kind === "password") {
    return {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { ...scoped(credentials.user), password: credentials.password } },
        },
        scope: { project: scoped(credentials.project) },
      },
    };
  }
  const { credential } = credentials;
  return {
    auth: {
      identity: {
        methods: ["application_credential"],
        application_credential: "id" in credential
          ? { id: credential.id, secret: credentials.secret }
          : { name: credential.name, user: scoped(credential.user), secret: credentials.secret },
      },
    },
  };
}

/** Who `credentials` are, for messages: `user "vkedge" in project "edge"`. */
export function describeCredentials(credentials: KeystoneCredentials): string {
  const name = (value: Scoped) => "id" in value ? `id ${value.id}` : `"${value.name}"`;
  if (credentials.kind === "password") {
    return `user ${name(credentials.user)} in project ${name(credentials.project)}`;
  }
  const { credential } = credentials;
  return "id" in credential
    ? `application credential ${credential.id}`
    : `application credential "${credential.name}" of user ${name(credential.user)}`;
}

/** The Keystone token of one client, renewed as described in the module documentation. */
export class KeystoneSession {
  /** Keystone's URL, without a trailing slash. */
  readonly authUrl: string;
  readonly #options: KeystoneSessionOptions;
  #token: Token | undefined;
  #renewing: Promise<Token> | undefined;
  #logins = 0;

  /** Creates the session; nothing is sent until the first token is needed. */
  constructor(options: KeystoneSessionOptions) {
    this.authUrl = options.authUrl.replace(/\/+$/, "");
    this.#options = options;
  }

  /** Tokens obtained so far. */
  get logins(): number {
    return this.#logins;
  }

  /** The current token, if any (possibly due for renewal). */
  get current(): Token | undefined {
    return this.#token;
  }

  /** A valid token: the current one, or a new one when it is due for renewal. */
  async token(signal: AbortSignal): Promise<Token> {
    const token = this.#token;
    if (token !== undefined && this.#options.now() < token.renewAt.getTime()) return token;
    return await this.#renew(signal);
  }

  /**
   * Drops `stale` (a service answered 401 with it) and returns a new token; a renewal
   * that already replaced it is shared.
   */
  async renewAfterRefusal(stale: string, signal: AbortSignal): Promise<Token> {
    if (this.#token !== undefined && this.#token.value !== stale) return this.#token;
    this.#token = undefined;
    return await this.#renew(signal);
  }

  /** Revokes the current token (best effort), so a stopped agent leaves none valid. */
  async revoke(signal: AbortSignal): Promise<void> {
    const token = this.#token;
    this.#token = undefined;
    if (token === undefined) return;
    try {
      await this.#options.transport.send({
        service: "identity",
        method: "DELETE",
        url: `${this.authUrl}/auth/tokens`,
        headers: { "X-Auth-Token": token.value, "X-Subject-Token": token.value },
        retry: "once",
      }, signal);
    } catch (error) {
      logger.debug("revoking the token failed: {error}", { error: errorMessage(error) });
    }
  }

  #renew(signal: AbortSignal): Promise<Token> {
    if (this.#renewing === undefined) {
      this.#renewing = this.#authenticate(signal).then((token) => {
        this.#token = token;
        return token;
      }).finally(() => {
        this.#renewing = undefined;
      });
    }
    return this.#renewing;
  }

  async #authenticate(signal: AbortSignal): Promise<Token> {
    const { credentials, transport, now } = this.#options;
    const who = describeCredentials(credentials);
    const answer = await transport.send({
      service: "identity",
      method: "POST",
      url: `${this.authUrl}/auth/tokens`,
      body: authBody(credentials),
      retry: "idempotent",
    }, signal);
    if (answer.status === 401 || answer.status === 403 || answer.status === 404) {
      const fault = faultOf(answer.json, answer.text);
      throw new UnauthenticatedError(
        `Keystone at ${this.authUrl} refuses ${who} (HTTP ${answer.status}: ${fault.message}): check the credentials in the provider config`,
      );
    }
    if (answer.status !== 201 && answer.status !== 200) {
      throw new UnavailableError(
        `Keystone at ${this.authUrl}: authenticating ${who}: expected 201, found HTTP ${answer.status}: ${
          faultOf(answer.json, answer.text).message
        }`,
      );
    }
    const value = answer.headers.get("X-Subject-Token");
    const parsed = tokenReplySchema.safeParse(answer.json);
    if (!value || !parsed.success) {
      throw new UnavailableError(
        `Keystone at ${this.authUrl}: expected a token (X-Subject-Token and {"token": …}), found ${
          value ? answer.text.slice(0, 200) : "no X-Subject-Token header"
        }`,
      );
    }
    const reply = parsed.data.token;
    const issued = now();
    const lifetime = Math.max(0, reply.expires_at.getTime() - issued);
    const margin = Math.max(5_000, Math.min(300_000, lifetime / 4));
    this.#logins++;
    loginsTotal.inc();
    logger.debug("Keystone token for {who} valid until {until}", {
      who,
      until: reply.expires_at.toISOString(),
    });
    return {
      value,
      expiresAt: reply.expires_at,
      renewAt: new Date(reply.expires_at.getTime() - margin),
      catalog: reply.catalog,
      ...(reply.project ? { projectId: reply.project.id } : {}),
      ...(reply.project?.name ? { projectName: reply.project.name } : {}),
      userId: reply.user.id,
      ...(reply.user.name ? { userName: reply.user.name } : {}),
      roles: reply.roles.flatMap((role) => role.name ? [role.name] : []),
    };
  }
}
