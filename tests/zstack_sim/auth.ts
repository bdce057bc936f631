/**
 * Identity of the simulated management node: account login with SHA-512 hex passwords,
 * OAuth sessions with a fixed lifetime from login (`identity/session.timeout`), renewal,
 * logout, and AccessKey request signing (`Authorization: ZStack <id>:<signature>`).
 *
 * @module
 */

import { ApiError, errorCode, HttpError, invalidSession } from "./errors.ts";
import { newUuid } from "./inventory.ts";

/** The uuid of the `admin` account of a fresh installation (AccountConstant). */
export const ADMIN_ACCOUNT_UUID = "36c27e8ff05c4780bf6d2fa65700f22e";

/** sha512("password"), the stored password of `admin` on a fresh installation. */
export const ADMIN_PASSWORD_SHA512 =
  "b109f3bbbc244eb82441917ed06d618b9008dd09b3befd1b5e07394c706a8bb980b1d7785e5976ec049b46df5f1326af5a2ea6d103fd07c95385ffab0cacbc86";

/** SessionInventory. */
export interface Session {
  uuid: string;
  accountUuid: string;
  userUuid: string;
  expiredDate: Date;
  createDate: Date;
}

/** AccessKeyInventory. */
export interface AccessKey {
  uuid: string;
  accountUuid: string;
  userUuid: string;
  AccessKeyID: string;
  AccessKeySecret: string;
  description?: string;
  state: string;
  createDate: Date;
  lastOpDate: Date;
}

/** How a request authenticates, as read from its headers before the API runs. */
export type Credential =
  | { kind: "session"; sessionUuid: string }
  | { kind: "accessKey"; accessKeyId: string; signatureValid: boolean };

/** The account a request acts for. */
export interface Identity {
  accountUuid: string;
  userUuid: string;
  sessionUuid?: string;
}

/** Settings of the identity service. */
export interface AuthOptions {
  /** `identity/session.timeout` in seconds (7200 on a real node). */
  sessionTimeoutSeconds: number;
  /** `session.maxConcurrent` per account (500 on a real node). */
  maxConcurrentSessions?: number;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The instants a `Date` header may mean: rest/checkTimeZone is false on a real node, so the
 * zone is ignored and the wall time read as server local time; the zone-aware reading is
 * accepted too, so that clients sending GMT from a machine in another zone still work.
 */
function parseDateHeader(text: string): number[] {
  const match = /^\w{3}, (\d{1,2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ?(\S*)$/.exec(
    text.trim(),
  );
  if (!match) return [];
  const [, day, month, year, hour, minute, second] = match;
  const monthIndex = MONTHS.indexOf(month);
  if (monthIndex < 0) return [];
  const local = new Date(
    Number(year),
    monthIndex,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  ).getTime();
  const zoned = Date.parse(text);
  return Number.isNaN(zoned) ? [local] : [local, zoned];
}

/** base64(HMAC-SHA1(secret, `METHOD\nDate\nURI`)), the AccessKey request signature. */
export async function accessKeySignature(
  secret: string,
  method: string,
  date: string,
  uri: string,
): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`${method}\n${date}\n${uri}`),
  );
  return btoa(String.fromCharCode(...new Uint8Array(signature)));
}

/** SHA-512 of `text` as lowercase hex, the form ZStack expects passwords in. */
export async function sha512Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Accounts, sessions and access keys. */
export class Auth {
  readonly #options: Required<AuthOptions>;
  readonly #accounts = new Map<string, { uuid: string; passwordSha512: string }>([
    ["admin", { uuid: ADMIN_ACCOUNT_UUID, passwordSha512: ADMIN_PASSWORD_SHA512 }],
  ]);
  readonly #sessions = new Map<string, Session>();
  readonly #accessKeys = new Map<string, AccessKey>();

  /** Creates the identity service with the `admin` account of a fresh installation. */
  constructor(options: AuthOptions) {
    this.#options = { maxConcurrentSessions: 500, ...options };
  }

  /** The live sessions (expired ones included until checked). */
  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  /** The access keys. */
  accessKeys(): AccessKey[] {
    return [...this.#accessKeys.values()];
  }

  /** LogInByAccount: the password must be the SHA-512 hex the account stores. */
  login(accountName: string | undefined, password: string | undefined): Session {
    const account = accountName === undefined ? undefined : this.#accounts.get(accountName);
    if (!account || password === undefined || account.passwordSha512 !== password.toLowerCase()) {
      throw new ApiError(errorCode("ID.1000", "wrong account name or password"));
    }
    const now = Date.now();
    const live = [...this.#sessions.values()].filter((session) =>
      session.accountUuid === account.uuid && session.expiredDate.getTime() > now
    );
    if (live.length >= this.#options.maxConcurrentSessions) {
      throw new ApiError(
        errorCode(
          "ID.1006",
          `Login sessions hit limit of max allowed concurrent login sessions, max allowed: ${this.#options.maxConcurrentSessions}`,
        ),
      );
    }
    const session: Session = {
      uuid: newUuid(),
      accountUuid: account.uuid,
      userUuid: account.uuid,
      createDate: new Date(now),
      expiredDate: new Date(now + this.#options.sessionTimeoutSeconds * 1000),
    };
    this.#sessions.set(session.uuid, session);
    return session;
  }

  /** The session if it exists and has not expired; ID.1001 otherwise. */
  checkSession(sessionUuid: string): Session {
    const session = this.#sessions.get(sessionUuid);
    if (!session) throw invalidSession();
    if (session.expiredDate.getTime() <= Date.now()) {
      this.#sessions.delete(sessionUuid);
      throw invalidSession();
    }
    return session;
  }

  /** ValidateSession: whether the session exists and has not expired. */
  isValid(sessionUuid: string): boolean {
    const session = this.#sessions.get(sessionUuid);
    return session !== undefined && session.expiredDate.getTime() > Date.now();
  }

  /** RenewSession: the session lives `durationSeconds` (default: session.timeout) from now. */
  renew(sessionUuid: string, durationSeconds?: number): Session {
    const session = this.checkSession(sessionUuid);
    const seconds = durationSeconds ?? this.#options.sessionTimeoutSeconds;
    session.expiredDate = new Date(Date.now() + seconds * 1000);
    return session;
  }

  /** LogOut: removes the session; an unknown one is fine. */
  logout(sessionUuid: string): void {
    this.#sessions.delete(sessionUuid);
  }

  /** Makes every session expire now (a fault: the next call gets ID.1001). */
  expireAllSessions(): void {
    this.#sessions.clear();
  }

  /** CreateAccessKey for the admin account. */
  createAccessKey(
    request: { AccessKeyID?: string; AccessKeySecret?: string; description?: string } = {},
  ): AccessKey {
    const now = new Date();
    const accessKey: AccessKey = {
      uuid: newUuid(),
      accountUuid: ADMIN_ACCOUNT_UUID,
      userUuid: ADMIN_ACCOUNT_UUID,
      AccessKeyID: request.AccessKeyID ?? newUuid().slice(0, 20).toUpperCase(),
      AccessKeySecret: request.AccessKeySecret ?? newUuid() + newUuid().slice(0, 8),
      description: request.description,
      state: "Enabled",
      createDate: now,
      lastOpDate: now,
    };
    this.#accessKeys.set(accessKey.AccessKeyID, accessKey);
    return accessKey;
  }

  /**
   * Reads the credential of a request as the REST layer does: a missing header, an
   * unknown scheme, a bad `Date` or a malformed key header are HTTP errors (400, 403).
   * `uri` is the path from `/v1`, without the context path and the query string.
   */
  async readCredential(request: Request, uri: string): Promise<Credential> {
    const header = request.headers.get("Authorization");
    if (header === null) throw new HttpError(400, "missing header 'Authorization'");
    const space = header.indexOf(" ");
    const scheme = space < 0 ? header : header.slice(0, space);
    const value = space < 0 ? "" : header.slice(space + 1);
    if (scheme === "OAuth") return { kind: "session", sessionUuid: value.trim() };
    if (scheme !== "ZStack") throw new HttpError(400, "Authorization type must be 'OAuth'");
    const date = request.headers.get("Date");
    if (date === null) throw new HttpError(400, "missing header 'Date'");
    const instants = parseDateHeader(date);
    if (instants.length === 0) throw new HttpError(400, `Invalid header[Date]: ${date}`);
    if (!instants.some((instant) => Math.abs(instant - Date.now()) <= MAX_SKEW_MS)) {
      throw new HttpError(403, "requestTimeTooSkewed");
    }
    const parts = value.split(":");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new HttpError(400, `Invalid header[Authorization]: ${header}`);
    }
    const [accessKeyId, signature] = parts;
    const accessKey = this.#accessKeys.get(accessKeyId);
    const expected = accessKey
      ? await accessKeySignature(accessKey.AccessKeySecret, request.method, date, uri)
      : undefined;
    return { kind: "accessKey", accessKeyId, signatureValid: expected === signature };
  }

  /**
   * What the identity interceptor decides for a credential: the identity, or ID.1001 for
   * a bad session and ID.1000 for a bad access key.
   */
  authenticate(credential: Credential): Identity {
    if (credential.kind === "session") {
      const session = this.checkSession(credential.sessionUuid);
      return {
        accountUuid: session.accountUuid,
        userUuid: session.userUuid,
        sessionUuid: session.uuid,
      };
    }
    const accessKey = this.#accessKeys.get(credential.accessKeyId);
    // The wording comes from closed-source code; clients match "access key id" and
    // "wrong accessKey signature".
    if (!accessKey || accessKey.state !== "Enabled") {
      throw new ApiError(
        errorCode("ID.1000", `access key id[${credential.accessKeyId}] is not found`),
      );
    }
    if (!credential.signatureValid) {
      throw new ApiError(errorCode("ID.1000", "wrong accessKey signature"));
    }
    return { accountUuid: accessKey.accountUuid, userUuid: accessKey.userUuid };
  }
}
