/**
 * The vSphere Web Services client: SOAP 1.1 envelopes to `/sdk`, one session per client.
 * `RetrieveServiceContent` once, then `SessionManager.Login` with the user and password;
 * the `vmware_soap_session` cookie rides on every call. A call answered with
 * `NotAuthenticated` (the session expired or was ended) logs in again once and repeats
 * itself, so an expiry is invisible to callers. Every reply is parsed (`xml.ts`) and
 * validated with the caller's zod schema; faults become {@linkcode VsphereFault}.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { z } from "zod";
import { UnauthenticatedError } from "../../lib/provider.ts";
import { counter, errorMessage, histogram } from "../../lib/provider_kit/mod.ts";
import { VsphereFault, VsphereHttpError } from "./faults.ts";
import { type HttpPoster, httpPoster, type TlsOptions } from "./transport.ts";
import {
  element,
  escapeXml,
  many,
  type MoRef,
  moRefElement,
  one,
  parseXml,
  type Plain,
  textElement,
  xmlMoRef,
  xmlText,
} from "./xml.ts";

const logger = getLogger(["vkedge", "provider", "vsphere", "client"]);

const requestsTotal = counter({
  name: "vkedge_vsphere_requests_total",
  help: "SOAP calls to vSphere, by method and result (ok, a fault type, or error: no answer).",
  labelNames: ["method", "result"],
});
const requestDuration = histogram({
  name: "vkedge_vsphere_request_duration_seconds",
  help: "Duration of one SOAP call to vSphere, by method.",
  labelNames: ["method"],
});
const loginsTotal = counter({
  name: "vkedge_vsphere_logins_total",
  help: "Successful logins to vSphere (the first and every re-login).",
});

/** The managed objects of `ServiceContent` the provider uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  about: { fullName: string; apiType: string; apiVersion: string; instanceUuid?: string };
}

const serviceContentSchema = z.object({
  rootFolder: xmlMoRef,
  propertyCollector: xmlMoRef,
  viewManager: xmlMoRef,
  sessionManager: xmlMoRef,
  about: one(z.object({
    fullName: xmlText,
    apiType: xmlText,
    apiVersion: xmlText,
    instanceUuid: xmlText.optional(),
  })),
});

const faultSchema = z.object({
  faultstring: xmlText.optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** Options of {@linkcode VsphereClient}. */
export interface VsphereClientOptions {
  /** The SDK endpoint, such as `https://vcenter.example/sdk`. */
  url: string;
  /** User, such as `vkedge@vsphere.local`. */
  username: string;
  /** Password. */
  password: string;
  /** TLS verification. */
  tls?: TlsOptions;
  /** Longest wait for one answer (default 60 s; long polls add their own wait). */
  requestTimeoutMs?: number;
  /** Sends requests; tests pass their own. */
  poster?: HttpPoster;
}

/** A session with one vCenter or ESXi host. */
export class VsphereClient {
  /** The SDK endpoint. */
  readonly url: string;
  readonly #options: VsphereClientOptions;
  readonly #poster: HttpPoster;
  #content: Promise<ServiceContent> | undefined;
  #cookie: string | undefined;
  #login: Promise<void> | undefined;
  #soapAction = "urn:vim25/6.5";

  /** Creates the client; nothing is sent until the first call. */
  constructor(options: VsphereClientOptions) {
    this.url = options.url;
    this.#options = options;
    this.#poster = options.poster ?? httpPoster(options.url, options.tls ?? {});
  }

  /** The service content, read once per client. */
  serviceContent(signal: AbortSignal): Promise<ServiceContent> {
    if (this.#content === undefined) {
      const content = this.#send(
        "RetrieveServiceContent",
        moRefElement("_this", { type: "ServiceInstance", value: "ServiceInstance" }),
        { signal, cookie: false },
      ).then((value) => serviceContentSchema.parse(value));
      this.#content = content;
      content.then((read) => {
        this.#soapAction = `urn:vim25/${read.about.apiVersion}`;
      }, () => {
        if (this.#content === content) this.#content = undefined;
      });
    }
    return this.#content;
  }

  /**
   * Calls `method` on the managed object `target` with the arguments `args` (XML of the
   * parameters after `_this`), logging in first if needed and again once when the session
   * expired; returns the `returnval` parsed with `schema`.
   */
  async call<T>(
    method: string,
    target: MoRef,
    args: string,
    schema: z.ZodType<T>,
    signal: AbortSignal,
    options: { timeoutMs?: number } = {},
  ): Promise<T> {
    const body = moRefElement("_this", target) + args;
    await this.#ensureSession(signal);
    let value: Plain | undefined;
    try {
      value = await this.#send(method, body, { signal, timeoutMs: options.timeoutMs });
    } catch (error) {
      if (!(error instanceof VsphereFault) || error.fault !== "NotAuthenticated") throw error;
      logger.info("vSphere session at {url} ended ({error}); logging in again", {
        url: this.url,
        error: errorMessage(error),
      });
      this.#cookie = undefined;
      await this.#ensureSession(signal);
      value = await this.#send(method, body, { signal, timeoutMs: options.timeoutMs });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new Error(
        `${method} at ${this.url}: expected a reply of the documented shape, found ${
          JSON.stringify(value)?.slice(0, 300)
        }: ${
          parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
        }`,
      );
    }
    return parsed.data;
  }

  /** Drops the session (it ended on the server), so the next call logs in again. */
  forgetSession(): void {
    if (this.#cookie !== undefined) {
      logger.info("vSphere session at {url} ended; logging in again", { url: this.url });
    }
    this.#cookie = undefined;
  }

  /** Whether a session is open. */
  get loggedIn(): boolean {
    return this.#cookie !== undefined;
  }

  /** Ends the session (best effort) and releases connections. */
  async close(signal: AbortSignal): Promise<void> {
    if (this.#cookie !== undefined) {
      try {
        const content = await this.serviceContent(signal);
        await this.#send("Logout", moRefElement("_this", content.sessionManager), { signal });
      } catch (error) {
        logger.debug("logout from {url} failed: {error}", {
          url: this.url,
          error: errorMessage(error),
        });
      }
      this.#cookie = undefined;
    }
    this.#poster.close();
  }

  #ensureSession(signal: AbortSignal): Promise<void> {
    if (this.#cookie !== undefined) return Promise.resolve();
    if (this.#login === undefined) {
      const login = this.#doLogin(signal).finally(() => {
        if (this.#login === login) this.#login = undefined;
      });
      this.#login = login;
    }
    return this.#login;
  }

  async #doLogin(signal: AbortSignal): Promise<void> {
    const content = await this.serviceContent(signal);
    const args = moRefElement("_this", content.sessionManager) +
      textElement("userName", this.#options.username) +
      textElement("password", this.#options.password);
    try {
      await this.#send("Login", args, { signal, cookie: false, login: true });
    } catch (error) {
      if (error instanceof VsphereFault && error.fault === "InvalidLogin") {
        // Not an outage: vSphere answered, and refuses these credentials.
        throw new UnauthenticatedError(
          `vSphere at ${this.url} refuses the login of "${this.#options.username}" (InvalidLogin): check auth.username and the password (file) in the provider config`,
          { cause: error },
        );
      }
      throw error;
    }
    if (this.#cookie === undefined) {
      throw new VsphereHttpError(
        200,
        `Login at ${this.url}: expected a vmware_soap_session cookie, found none`,
      );
    }
    loginsTotal.inc();
    logger.debug("logged in to {url} as {user}", { url: this.url, user: this.#options.username });
  }

  async #send(
    method: string,
    body: string,
    options: { signal: AbortSignal; cookie?: boolean; login?: boolean; timeoutMs?: number },
  ): Promise<Plain | undefined> {
    const envelope = '<?xml version="1.0" encoding="UTF-8"?>' + element(
      "soapenv:Envelope",
      element("soapenv:Body", element(method, body, { xmlns: "urn:vim25" })),
      {
        "xmlns:soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
        "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
      },
    );
    const headers: Record<string, string> = {
      "Content-Type": "text/xml; charset=utf-8",
      "SOAPAction": this.#soapAction,
    };
    if (options.cookie !== false && this.#cookie !== undefined) {
      headers.Cookie = `vmware_soap_session=${this.#cookie}`;
    }
    const timeout = AbortSignal.timeout(
      options.timeoutMs ?? this.#options.requestTimeoutMs ?? 60_000,
    );
    const started = performance.now();
    let result = "error";
    try {
      const reply = await this.#poster.post(
        envelope,
        headers,
        AbortSignal.any([options.signal, timeout]),
      )
        .catch((error) => {
          if (timeout.aborted && !options.signal.aborted) {
            throw new Error(
              `${method} at ${this.url}: no answer within ${
                options.timeoutMs ?? this.#options.requestTimeoutMs ?? 60_000
              } ms`,
              { cause: error },
            );
          }
          throw new Error(`${method} at ${this.url}: ${errorMessage(error)}`, { cause: error });
        });
      if (options.login && reply.sessionCookie !== undefined) this.#cookie = reply.sessionCookie;
      const value = this.#unwrap(method, reply.status, reply.text);
      result = "ok";
      return value;
    } catch (error) {
      if (error instanceof VsphereFault) result = error.fault;
      throw error;
    } finally {
      requestsTotal.inc({ method, result });
      requestDuration.observe({ method }, (performance.now() - started) / 1000);
    }
  }

  #unwrap(method: string, status: number, text: string): Plain | undefined {
    let root: { name: string; value: Plain };
    try {
      root = parseXml(text);
    } catch (error) {
      throw new VsphereHttpError(
        status,
        `${method} at ${this.url}: expected a SOAP envelope, found HTTP ${status} ${
          JSON.stringify(text.slice(0, 200))
        } (${errorMessage(error)})`,
      );
    }
    const body = typeof root.value === "object" && !Array.isArray(root.value)
      ? root.value.Body
      : undefined;
    if (root.name !== "Envelope" || typeof body !== "object" || Array.isArray(body)) {
      throw new VsphereHttpError(
        status,
        `${method} at ${this.url}: expected a SOAP envelope with a Body, found HTTP ${status} <${root.name}>`,
      );
    }
    if (body.Fault !== undefined) {
      const fault = faultSchema.parse(body.Fault);
      const [detailName, detail] = Object.entries(fault.detail ?? {})[0] ?? [];
      const xsiType = typeof detail === "object" && detail !== null
        ? (detail as { _xsiType?: string })._xsiType
        : undefined;
      const type = xsiType ?? detailName?.replace(/Fault$/, "") ?? "SystemError";
      throw new VsphereFault(method, type, fault.faultstring ?? "");
    }
    const response = body[`${method}Response`];
    if (response === undefined) {
      throw new VsphereHttpError(
        status,
        `${method} at ${this.url}: expected <${method}Response>, found ${
          Object.keys(body).join(", ") || "an empty Body"
        }`,
      );
    }
    return typeof response === "object" && !Array.isArray(response)
      ? response.returnval
      : undefined;
  }
}

/** Builds `<name type="T">id</name>` for each ref. */
export function moRefList(name: string, refs: MoRef[]): string {
  return refs.map((ref) => moRefElement(name, ref)).join("");
}

/** A list of text elements, one per value. */
export function textList(name: string, values: string[]): string {
  return values.map((value) => element(name, escapeXml(value))).join("");
}

/** Schema of a reply that is one reference. */
export const moRefReply: z.ZodType<MoRef> = xmlMoRef;

/** Schema of a reply that is a list of references. */
export const moRefListReply: z.ZodType<MoRef[]> = many(xmlMoRef);

/** Schema of a reply without a value. */
export const voidReply: z.ZodType<unknown> = z.unknown();
