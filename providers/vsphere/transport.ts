/**
 * One HTTP exchange with the vSphere SDK endpoint: POST of a SOAP envelope, the reply's
 * status, text and session cookie. TLS is verified against the system's roots or the
 * configured CA file (with `fetch`); the `insecure` switch, logged at start-up, skips the
 * check, which `fetch` cannot do, so it goes through `node:https`.
 *
 * @module
 */

import https from "node:https";
import { Buffer } from "node:buffer";

/** What the server answered. */
export interface HttpReply {
  /** HTTP status. */
  status: number;
  /** Body. */
  text: string;
  /** The `vmware_soap_session` cookie the server set, if any. */
  sessionCookie?: string;
}

/** Sends one request. */
export interface HttpPoster {
  /** POSTs `body` with `headers`; rejects on network errors and on `signal`. */
  post(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpReply>;
  /** Releases connections. */
  close(): void;
}

/** TLS settings of the endpoint. */
export interface TlsOptions {
  /** PEM text of the CA(s) to trust instead of the system's. */
  caCerts?: string[];
  /** Skip certificate verification. */
  insecure?: boolean;
}

const cookieName = "vmware_soap_session";

function sessionCookieOf(setCookie: string | string[] | null | undefined): string | undefined {
  const values = Array.isArray(setCookie)
    ? setCookie
    : setCookie
    ? setCookie.split(/,(?=\s*\w+=)/)
    : [];
  for (const value of values) {
    const match = value.trim().match(new RegExp(`^${cookieName}=([^;]*)`));
    if (match) return match[1];
  }
  return undefined;
}

class FetchPoster implements HttpPoster {
  readonly #url: string;
  readonly #client: Deno.HttpClient | undefined;

  constructor(url: string, tls: TlsOptions) {
    this.#url = url;
    this.#client = tls.caCerts ? Deno.createHttpClient({ caCerts: tls.caCerts }) : undefined;
  }

  async post(body: string, headers: Record<string, string>, signal: AbortSignal) {
    const response = await fetch(this.#url, {
      method: "POST",
      body,
      headers,
      signal,
      ...(this.#client ? { client: this.#client } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      text,
      sessionCookie: sessionCookieOf(response.headers.get("set-cookie")),
    };
  }

  close(): void {
    this.#client?.close();
  }
}

class InsecurePoster implements HttpPoster {
  readonly #url: URL;
  readonly #agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

  constructor(url: string) {
    this.#url = new URL(url);
  }

  post(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const request = https.request(this.#url, {
        method: "POST",
        agent: this.#agent,
        headers: { ...headers, "Content-Length": Buffer.byteLength(body) },
        signal,
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            sessionCookie: sessionCookieOf(response.headers["set-cookie"]),
          }));
      });
      request.on("error", reject);
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The poster for `url` with `tls`. */
export function httpPoster(url: string, tls: TlsOptions): HttpPoster {
  return tls.insecure && url.startsWith("https:")
    ? new InsecurePoster(url)
    : new FetchPoster(url, tls);
}
