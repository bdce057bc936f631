/**
 * Authentication of the ZStack client: login by account (the password sent as its
 * SHA-512 hex digest), one shared session re-established transparently when ZStack
 * answers `ID.1001`, session checks and logout; or AccessKey signing
 * (`base64(HMAC-SHA1(secret, "METHOD\nDate\nURI"))`), which needs no session. Successful
 * logins are counted in `vkedge_zstack_logins_total`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnauthenticatedError, UnavailableError } from "../../lib/provider.ts";
import { counter } from "../../lib/provider_kit/mod.ts";
import { loginReplySchema, sessionValidReplySchema } from "./api_types.ts";
import { describeErrorCode, invalidSessionCode, ZStackApiError } from "./errors.ts";
import type { Authorizer, ZStackTransport } from "./transport.ts";

const logger = getLogger(["vkedge", "provider", "zstack", "client"]);

/** The code of a login ZStack refuses ("Unable to authenticate a user"). */
const authenticationFailedCode = "ID.1000";

const loginsTotal = counter({
  name: "vkedge_zstack_logins_total",
  help: "Successful logins to the ZStack API.",
});

/** How the client authenticates. Passwords are plaintext here and hashed before sending. */
export type ZStackCredentials =
  | {
    kind: "account";
    /** Account name, such as `admin`. */
    accountName: string;
    /** The password, or its SHA-512 hex digest when `passwordIsSha512`. */
    password: string;
    /** Whether `password` already is the lowercase SHA-512 hex digest. */
    passwordIsSha512?: boolean;
  }
  | {
    kind: "accessKey";
    /** AccessKey ID. */
    accessKeyId: string;
    /** AccessKey secret. */
    accessKeySecret: string;
  };

/** Lowercase hex SHA-512 of `text`, the password form `logInByAccount` wants. */
export async function sha512Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `base64(HMAC-SHA1(secret, "METHOD\nDate\nURI"))`, the AccessKey signature. */
export async function accessKeySignature(
  secret: string,
  request: { method: string; date: string; uri: string },
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const text = `${request.method}\n${request.date}\n${request.uri}`;
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)),
  );
  return btoa(String.fromCharCode(...signature));
}

/** The session (or the AccessKey) of one client. */
export class ZStackSession {
  readonly #credentials: ZStackCredentials;
  readonly #transport: ZStackTransport;
  #session: { promise: Promise<string>; value?: string } | undefined;
  #logins = 0;

  /** Creates the session holder; nothing is sent until the first request. */
  constructor(credentials: ZStackCredentials, transport: ZStackTransport) {
    this.#credentials = credentials;
    this.#transport = transport;
  }

  /** Successful logins so far. */
  get logins(): number {
    return this.#logins;
  }

  /**
   * Runs `work` with the current session (logging in first if needed); when ZStack says
   * the session is invalid, logs in again and repeats `work`, up to three logins.
   */
  async authenticated<T>(
    signal: AbortSignal,
    work: (authorize: Authorizer) => Promise<T>,
  ): Promise<T> {
    const credentials = this.#credentials;
    if (credentials.kind === "accessKey") {
      return await work((headers, request) => signAccessKey(credentials, headers, request));
    }
    const endpoint = this.#transport.endpoint;
    for (let attempt = 0;; attempt++) {
      const session = await this.#current(signal);
      try {
        return await work((headers) => headers.set("Authorization", `OAuth ${session}`));
      } catch (error) {
        if (!(error instanceof ZStackApiError) || error.code !== invalidSessionCode) throw error;
        this.#forget(session);
        if (attempt >= 2) {
          throw new UnavailableError(
            `ZStack at ${endpoint}: expected a fresh session to be accepted, found ${
              describeErrorCode(error.error)
            } after ${attempt + 1} logins`,
            { cause: error },
          );
        }
        logger.info("ZStack session at {endpoint} expired; logging in again", { endpoint });
      }
    }
  }

  /**
   * Checks that the management node answers and the session (if any) is valid, logging
   * in again when it is not. Throws `UnavailableError` naming the endpoint otherwise.
   */
  async check(signal: AbortSignal): Promise<void> {
    if (this.#credentials.kind !== "account") return;
    const session = await this.#current(signal);
    const path = `/v1/accounts/sessions/${session}/valid`;
    const operation = `GET ${path}`;
    const reply = await this.#transport.send(operation, { method: "GET", path }, {
      submitting: false,
      signal,
    });
    if (reply.status !== 200) throw this.#transport.failure(operation, reply);
    const valid = sessionValidReplySchema.safeParse(reply.json);
    if (valid.success && valid.data.valid) return;
    logger.info("ZStack session at {endpoint} is no longer valid; logging in again", {
      endpoint: this.#transport.endpoint,
    });
    this.#forget(session);
    await this.#current(signal);
  }

  /** Logs out (best effort), so that restarts do not pile up sessions. */
  async close(signal: AbortSignal): Promise<void> {
    const pending = this.#session;
    this.#session = undefined;
    if (pending === undefined) return;
    try {
      const session = await pending.promise;
      await this.#transport.exchange(
        { method: "DELETE", path: `/v1/accounts/sessions/${session}` },
        signal,
      );
    } catch (error) {
      logger.debug("ZStack logout at {endpoint} failed: {error}", {
        endpoint: this.#transport.endpoint,
        error: String(error),
      });
    }
  }

  #current(signal: AbortSignal): Promise<string> {
    if (this.#session === undefined) {
      const entry: { promise: Promise<string>; value?: string } = { promise: this.#login(signal) };
      entry.promise.then((value) => {
        entry.value = value;
      }, () => {
        if (this.#session === entry) this.#session = undefined;
      });
      this.#session = entry;
    }
    return this.#session.promise;
  }

  /** Drops `session` unless a newer login already replaced it. */
  #forget(session: string): void {
    if (this.#session?.value === session) this.#session = undefined;
  }

  async #login(signal: AbortSignal): Promise<string> {
    const credentials = this.#credentials;
    if (credentials.kind !== "account") throw new Error("login needs account credentials");
    const password = credentials.passwordIsSha512
      ? credentials.password.toLowerCase()
      : await sha512Hex(credentials.password);
    const path = "/v1/accounts/login";
    const operation = `PUT ${path}`;
    const body = { logInByAccount: { accountName: credentials.accountName, password } };
    const reply = await this.#transport.send(operation, { method: "PUT", path, body }, {
      submitting: true,
      signal,
    });
    if (reply.status !== 200) {
      const failure = this.#transport.failure(operation, reply);
      if (failure instanceof ZStackApiError && failure.code === authenticationFailedCode) {
        // Not an outage: ZStack answered, and refuses these credentials.
        throw new UnauthenticatedError(
          `ZStack at ${this.#transport.endpoint} refuses the login of account "${credentials.accountName}" (${failure.code}: ${failure.message}): check accountName and the password (file) in the provider config`,
          { cause: failure },
        );
      }
      throw new UnavailableError(
        `ZStack at ${this.#transport.endpoint}: login of account "${credentials.accountName}" failed: ${failure.message}`,
        { cause: failure },
      );
    }
    const session = this.#transport.parse(operation, reply, loginReplySchema).inventory.uuid;
    this.#logins++;
    loginsTotal.inc();
    logger.debug("logged in to ZStack at {endpoint}", { endpoint: this.#transport.endpoint });
    return session;
  }
}

async function signAccessKey(
  credentials: { accessKeyId: string; accessKeySecret: string },
  headers: Headers,
  request: { method: string; path: string },
): Promise<void> {
  const date = new Date().toUTCString();
  const signature = await accessKeySignature(credentials.accessKeySecret, {
    method: request.method,
    date,
    uri: request.path,
  });
  headers.set("Date", date);
  headers.set("Authorization", `ZStack ${credentials.accessKeyId}:${signature}`);
}
