/**
 * The HTTPS kubelet API that `kubectl logs`, metrics-server and the API server's node proxy
 * reach: authentication and authorization as a kubelet in webhook mode does, then routing
 * to the provider. The core (`handle`) works on web-standard `Request`/`Response`; a thin
 * adapter serves it with `node:https`, which verifies client certificates against a CA.
 *
 * @module
 */

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { hasExecInContainer, type Provider } from "../provider.ts";
import {
  type Authenticator,
  type Authorizer,
  type Credentials,
  type NodeAccessAttributes,
  type PeerCertificate,
  subresourcesForPath,
  verbForMethod,
} from "./auth.ts";
import { errorResponse, HttpError, statusForError, textResponse } from "./http_errors.ts";
import { serveContainerLogs } from "./logs.ts";
import { serveMetricsResource, serveStatsSummary } from "./stats.ts";
import { generateServingCertificate } from "./tls.ts";

const logger = getLogger(["vkedge", "kubelet_api"]);

/** Options of the kubelet API server. */
export interface KubeletApiServerOptions {
  /** Node name: the `name` of every authorization check. */
  nodeName: string;
  /** The provider whose pods, logs and stats are served. */
  provider: Provider;
  /** Identifies callers. */
  authenticator: Authenticator;
  /** Authorizes callers on `nodes/<subresource>`. */
  authorizer: Authorizer;
  /** Serving certificate (leaf first, then chain) and key; generated at start when absent. */
  tls?: { certPem: string; keyPem: string };
  /** CA that client certificates must chain to; without it certificates are not requested. */
  clientCaPem?: string;
  /** IPs and DNS names for a generated serving certificate (besides the node name). */
  certificateAddresses?: string[];
  /** Source of `/pods`; defaults to the provider's pods. */
  listPods?: (signal: AbortSignal) => Promise<Pod[]>;
}

/** Where to listen. */
export interface StartOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind, such as `0.0.0.0` or `127.0.0.1`. */
  hostname: string;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/** Address the server actually listens on. */
export interface ListeningAddress {
  /** Bound port. */
  port: number;
  /** Bound address. */
  hostname: string;
}

const streamingSubresources = ["exec", "attach", "portForward", "run"];

function podList(items: Pod[]): Record<string, unknown> {
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items };
}

function isRunning(pod: Pod): boolean {
  return pod.status?.phase === "Running" ||
    (pod.status?.containerStatuses ?? []).some((status) => status.state?.running !== undefined);
}

function firstOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

function allOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item) => typeof item === "string");
  return [];
}

function isIpAddress(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || text.includes(":");
}

/** The kubelet API server: construct, `start`, and `close` when done. */
export class KubeletApiServer {
  readonly #options: KubeletApiServerOptions;
  readonly #active = new Set<AbortController>();
  #server?: Server;
  #servingCaPem?: string;

  /** Creates a server; nothing listens before `start`. */
  constructor(options: KubeletApiServerOptions) {
    this.#options = options;
  }

  /** CA of the generated serving certificate, once started without a configured one. */
  get servingCaPem(): string | undefined {
    return this.#servingCaPem;
  }

  /**
   * Answers one request: `/healthz` for anyone, everything else after authentication (401)
   * and authorization (403), then routing; errors become statuses in `errorResponse`.
   */
  async handle(request: Request, credentials: Credentials): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/healthz" || path === "/healthz/") {
      return request.method === "GET" || request.method === "HEAD"
        ? textResponse(200, "ok")
        : textResponse(405, `method ${request.method} not allowed on /healthz: expected GET`);
    }

    let authentication;
    try {
      authentication = await this.#options.authenticator.authenticate(credentials, request.signal);
    } catch (error) {
      logger.warn("authentication error for {method} {path}: {error}", {
        method: request.method,
        path,
        error: String(error),
      });
      return textResponse(401, "Unauthorized");
    }
    if (!authentication.authenticated) {
      logger.debug("unauthenticated {method} {path}: {reason}", {
        method: request.method,
        path,
        reason: authentication.reason,
      });
      return textResponse(401, "Unauthorized");
    }
    const user = authentication.user;
    const verb = verbForMethod(request.method);
    let denial = "";
    let allowed = false;
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
        const decision = await this.#options.authorizer.authorize(attributes, request.signal);
        if (decision.allowed) {
          allowed = true;
          break;
        }
        denial = `Forbidden (${describe})${decision.reason ? `: ${decision.reason}` : ""}`;
      } catch (error) {
        logger.warn("authorization error ({describe}): {error}", {
          describe,
          error: String(error),
        });
        return textResponse(500, `Authorization error (${describe})`);
      }
    }
    if (!allowed) {
      logger.debug("forbidden {method} {path}: {denial}", {
        method: request.method,
        path,
        denial,
        attributes: lastAttributes,
      });
      return textResponse(403, denial);
    }

    try {
      return await this.#route(request, url);
    } catch (error) {
      const status = statusForError(error);
      if (status >= 500 && status !== 501) {
        logger.error("{method} {path} failed: {error}", {
          method: request.method,
          path,
          error: String(error),
        });
      }
      return errorResponse(error);
    }
  }

  async #route(request: Request, url: URL): Promise<Response> {
    const segments = url.pathname.split("/").slice(1);
    if (segments.at(-1) === "") segments.pop();
    const decoded = segments.map((segment) => decodeURIComponent(segment));
    const [head, ...rest] = decoded;
    const provider = this.#options.provider;
    const signal = request.signal;
    const get = () => {
      if (request.method !== "GET" && request.method !== "HEAD") {
        throw new HttpError(
          405,
          `method ${request.method} not allowed on ${url.pathname}: expected GET`,
        );
      }
    };

    if (head === "containerLogs" && rest.length === 3) {
      get();
      const [namespace, pod, container] = rest;
      return await serveContainerLogs(provider, { namespace, pod, container }, {
        params: url.searchParams,
        signal,
      });
    }
    if (head === "pods" && rest.length === 0) {
      get();
      const pods = await (this.#options.listPods ?? ((s) => provider.getPods(s)))(signal);
      return Response.json(podList(pods));
    }
    if (head === "runningpods" && rest.length === 0) {
      get();
      return Response.json(podList((await provider.getPods(signal)).filter(isRunning)));
    }
    if (head === "stats" && rest.length === 1 && rest[0] === "summary") {
      get();
      return await serveStatsSummary(provider, signal);
    }
    if (head === "metrics" && rest.length === 1 && rest[0] === "resource") {
      get();
      return await serveMetricsResource(provider, signal);
    }
    if (streamingSubresources.includes(head) && rest.length >= 2) {
      throw new HttpError(
        501,
        hasExecInContainer(provider)
          ? `/${head} is not supported by the vkedge kubelet API yet (streaming protocols are not implemented)`
          : `provider "${provider.name}" does not implement ExecInContainer: /${head} is not available`,
      );
    }
    throw new HttpError(404, "404 request not found");
  }

  /** Starts listening with TLS; resolves with the bound address. */
  async start(options: StartOptions): Promise<ListeningAddress> {
    if (this.#server !== undefined) {
      throw new Error("kubelet API server: expected start() once, found a second call");
    }
    let tls = this.#options.tls;
    if (tls === undefined) {
      const addresses = [
        ...(this.#options.certificateAddresses ?? []),
        ...(isIpAddress(options.hostname) && options.hostname !== "0.0.0.0" &&
            options.hostname !== "::"
          ? [options.hostname]
          : []),
      ];
      const generated = await generateServingCertificate(this.#options.nodeName, {
        ipAddresses: addresses.filter(isIpAddress),
        dnsNames: addresses.filter((address) => !isIpAddress(address)),
      });
      this.#servingCaPem = generated.caPem;
      tls = generated;
      logger.info("generated a self-signed serving certificate for {node}", {
        node: this.#options.nodeName,
      });
    }
    const clientCa = this.#options.clientCaPem;
    const server = createServer(
      {
        key: tls.keyPem,
        cert: tls.certPem,
        ...(clientCa === undefined ? {} : { ca: clientCa, requestCert: true }),
        rejectUnauthorized: false,
        minVersion: "TLSv1.2",
      },
      (req, res) => void this.#serve(req, res),
    );
    server.headersTimeout = 30_000;
    server.requestTimeout = 0;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    const address = server.address();
    const bound = typeof address === "object" && address !== null
      ? { port: address.port, hostname: address.address }
      : { port: options.port, hostname: options.hostname };
    logger.info("kubelet API listening on {hostname}:{port}", bound);
    return bound;
  }

  /** Stops listening, ends in-flight streams (such as followed logs) and resolves when closed. */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    for (const controller of this.#active) controller.abort(new Error("kubelet API closing"));
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    });
  }

  #credentials(req: IncomingMessage): Credentials {
    const credentials: Credentials = {};
    const authorization = req.headers.authorization;
    const bearer = authorization === undefined
      ? undefined
      : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (bearer !== undefined) credentials.bearerToken = bearer;
    if (this.#options.clientCaPem !== undefined) {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate?.();
      // Node types say string, but repeated attributes (several O) arrive as arrays.
      const subject = peer?.subject;
      if (subject) {
        const certificate: PeerCertificate = {
          verified: socket.authorized === true,
          commonName: firstOf(subject.CN),
          organizations: allOf(subject.O),
        };
        if (socket.authorizationError) certificate.error = String(socket.authorizationError);
        credentials.certificate = certificate;
      }
    }
    return credentials;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    this.#active.add(controller);
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new Error("client went away"));
      this.#active.delete(controller);
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) { for (const item of value) headers.append(name, item); }
    }
    let response: Response;
    try {
      const request = new Request(`https://kubelet${req.url ?? "/"}`, {
        method: req.method ?? "GET",
        headers,
        signal: controller.signal,
      });
      response = await this.handle(request, this.#credentials(req));
    } catch (error) {
      response = errorResponse(error);
    }
    logger.debug("{method} {url} -> {status}", {
      method: req.method,
      url: req.url,
      status: response.status,
    });
    const outgoing: Record<string, string> = {};
    response.headers.forEach((value, name) => outgoing[name] = value);
    res.writeHead(response.status, outgoing);
    if (response.body === null || req.method === "HEAD") {
      await response.body?.cancel();
      res.end();
      return;
    }
    const reader = response.body.getReader();
    const stop = () => void reader.cancel().catch(() => {});
    controller.signal.addEventListener("abort", stop, { once: true });
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!res.write(value)) {
          await new Promise<void>((resolve) => {
            const resume = () => {
              res.off("drain", resume);
              res.off("close", resume);
              resolve();
            };
            res.on("drain", resume);
            res.on("close", resume);
          });
        }
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        logger.warn("response stream for {url} failed: {error}", {
          url: req.url,
          error: String(error),
        });
      }
    } finally {
      controller.signal.removeEventListener("abort", stop);
      res.end();
    }
  }
}
