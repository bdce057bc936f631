/**
 * The HTTPS kubelet API that `kubectl logs`, metrics-server and the API server's node proxy
 * reach: every request (plain, or a connection upgrade such as SPDY for `kubectl exec`) is
 * authenticated and authorized as a kubelet in webhook mode does (`access.ts`), then routed
 * through the route table (`routes.ts`, `kubelet_routes.ts`). The core (`handle`) works on
 * web-standard `Request`/`Response`; it is served with `node:https`, which verifies client
 * certificates against a CA and, through its `'upgrade'` event, hands over raw sockets. A
 * refused or failed upgrade is answered on the socket with a `metav1.Status` (the same
 * message as the plain path's text), which is what client-go shows to `kubectl` users.
 *
 * @module
 */

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import type { Provider } from "../provider.ts";
import { AccessCheck } from "./access.ts";
import type { Authenticator, Authorizer, Credentials, UserInfo } from "./auth.ts";
import { credentialsOf, type CredentialsOptions } from "./credentials.ts";
import { requestOf, writeResponse } from "./http_adapter.ts";
import {
  errorResponse,
  failureOf,
  HttpError,
  type HttpFailure,
  statusForError,
  statusResponse,
  textResponse,
} from "./http_errors.ts";
import { kubeletRoutes } from "./kubelet_routes.ts";
import type { AgentHealth } from "../health.ts";
import { type Route, type RouteContext, routeRefusal, RouteTable } from "./routes.ts";
import { endSocket, writeSocketResponse, writeSwitchingProtocols } from "./socket_response.ts";
import type { StreamingOptions } from "./streaming.ts";
import { generateServingCertificate } from "./tls.ts";
import { UpgradedSockets } from "./upgraded_sockets.ts";

const logger = getLogger(["vkedge", "kubelet_api"]);

/** How long `close()` lets upgraded connections end before destroying them. */
const closeGraceMs = 500;

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
  /** The node's pods as the API server holds them, for `/pods` and `/runningpods/`. */
  apiPods?: () => Pod[];
  /** Routes matched before the built-in ones (behind the same authentication and authorization). */
  routes?: Route[];
  /** Timeouts and WebSocket protocols of exec, attach and port-forward (kubelet defaults). */
  streaming?: StreamingOptions;
  /** What `/healthz` and `/readyz` report (without it, `/healthz` says ok). */
  health?: AgentHealth;
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

/** A request admitted to a route: the route, its path parameters and the user. */
interface Admitted {
  route: Route;
  params: Record<string, string>;
  user?: UserInfo;
}

function isIpAddress(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || text.includes(":");
}

function logFailure(error: unknown, request: { method: string; path: string }): void {
  const status = statusForError(error);
  if (status >= 500 && status !== 501) {
    logger.error("{method} {path} failed: {error}", { ...request, error: errorMessage(error) });
  }
}

/** The kubelet API server: construct, `start`, and `close` when done. */
export class KubeletApiServer {
  readonly #options: KubeletApiServerOptions;
  readonly #access: AccessCheck;
  readonly #routes: RouteTable;
  readonly #active = new Set<AbortController>();
  readonly #upgraded = new UpgradedSockets();
  #server?: Server;
  #servingCaPem?: string;

  /** Creates a server; nothing listens before `start`. */
  constructor(options: KubeletApiServerOptions) {
    this.#options = options;
    this.#access = new AccessCheck(options);
    this.#routes = new RouteTable([
      ...(options.routes ?? []),
      ...kubeletRoutes({
        provider: options.provider,
        apiPods: options.apiPods,
        streaming: options.streaming,
        health: options.health,
      }),
    ]);
  }

  /** CA of the generated serving certificate, once started without a configured one. */
  get servingCaPem(): string | undefined {
    return this.#servingCaPem;
  }

  /**
   * Answers one request: public routes (`/healthz`) for anyone, everything else after
   * authentication (401) and authorization (403), then routing (404, 405); errors become
   * statuses in `errorResponse`.
   */
  async handle(request: Request, credentials: Credentials): Promise<Response> {
    const url = new URL(request.url);
    const admitted = await this.#admit(request, url, credentials);
    if (!("route" in admitted)) {
      return textResponse(admitted.status, admitted.message, admitted.headers);
    }
    const { route } = admitted;
    if (route.handle === undefined) {
      return errorResponse(
        new HttpError(
          400,
          `${url.pathname} expects an upgrade request (Connection: Upgrade), found a plain ${request.method}`,
        ),
      );
    }
    return await this.#runPlain(route.handle, this.#context(request, url, admitted));
  }

  /** Authenticates, authorizes and resolves the route, or says why the request is refused. */
  async #admit(
    request: Request,
    url: URL,
    credentials: Credentials,
  ): Promise<Admitted | HttpFailure> {
    const path = url.pathname;
    let user: UserInfo | undefined;
    if (!this.#routes.isPublic(path)) {
      const access = await this.#access.check(
        { method: request.method, path, credentials },
        request.signal,
      );
      if (!access.allowed) return { status: access.status, message: access.message };
      user = access.user;
    }
    const resolution = this.#routes.resolve(request.method, path);
    if (resolution.kind !== "found") {
      return routeRefusal(resolution, { method: request.method, path });
    }
    return { route: resolution.route, params: resolution.params, user };
  }

  #context(request: Request, url: URL, admitted: Admitted): RouteContext {
    return {
      request,
      url,
      params: admitted.params,
      ...(admitted.user === undefined ? {} : { user: admitted.user }),
      signal: request.signal,
    };
  }

  async #runPlain(handle: NonNullable<Route["handle"]>, context: RouteContext): Promise<Response> {
    try {
      return await handle(context);
    } catch (error) {
      logFailure(error, { method: context.request.method, path: context.url.pathname });
      return errorResponse(error);
    }
  }

  /** Serves an upgrade request on its raw socket: the same admission, then the route's handler. */
  async #upgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): Promise<void> {
    const signal = this.#upgraded.track(socket);
    socket.on("error", (error) => {
      logger.debug("upgraded connection for {url} failed: {error}", {
        url: req.url,
        error: errorMessage(error),
      });
    });
    const method = req.method ?? "GET";
    let switched = false;
    try {
      const request = requestOf(req, signal);
      const url = new URL(request.url);
      const admitted = await this.#admit(
        request,
        url,
        credentialsOf(req, this.#credentialOptions()),
      );
      if (!("route" in admitted)) {
        logger.debug("upgrade {method} {url} -> {status}", {
          method,
          url: req.url,
          status: admitted.status,
        });
        return await writeSocketResponse(socket, statusResponse(admitted), { method });
      }
      const context = this.#context(request, url, admitted);
      const { handle, upgrade } = admitted.route;
      if (upgrade === undefined) {
        // A plain route answers an upgrade request as it answers any request.
        const response = handle === undefined
          ? errorResponse(new Error(`route ${admitted.route.name} has no handler`))
          : await this.#runPlain(handle, context);
        return await writeSocketResponse(socket, response, { method, stream: true, signal });
      }
      await upgrade({
        ...context,
        socket,
        head,
        switchProtocols(headers) {
          if (switched) throw new Error("switchProtocols: expected one call, found a second");
          switched = true;
          writeSwitchingProtocols(socket, headers);
        },
        takeOver() {
          if (switched) throw new Error("takeOver: expected one hand-over, found a second");
          switched = true;
        },
        respond(response) {
          switched = true;
          return writeSocketResponse(socket, response, { method });
        },
      });
      endSocket(socket);
    } catch (error) {
      logFailure(error, { method, path: req.url ?? "" });
      logger.debug("upgrade {method} {url} failed: {error}", {
        method,
        url: req.url,
        error: errorMessage(error),
      });
      if (switched) socket.destroy();
      else await writeSocketResponse(socket, statusResponse(failureOf(error)), { method });
    }
  }

  #credentialOptions(): CredentialsOptions {
    return { clientCertificates: this.#options.clientCaPem !== undefined };
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
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Uint8Array) => {
      this.#upgrade(req, socket, head).catch((error) => {
        logger.warn("upgrade {url} could not be answered: {error}", {
          url: req.url,
          error: errorMessage(error),
        });
        socket.destroy();
      });
    });
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

  /**
   * Stops listening, ends in-flight streams (such as followed logs) and upgraded connections,
   * and resolves when closed.
   */
  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    for (const controller of this.#active) controller.abort(new Error("kubelet API closing"));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    await this.#upgraded.closeAll(closeGraceMs);
    await closed;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    this.#active.add(controller);
    res.on("close", () => {
      if (!res.writableFinished) controller.abort(new Error("client went away"));
      this.#active.delete(controller);
    });
    const method = req.method ?? "GET";
    let response: Response;
    try {
      const request = requestOf(req, controller.signal);
      response = await this.handle(request, credentialsOf(req, this.#credentialOptions()));
    } catch (error) {
      response = errorResponse(error);
    }
    logger.debug("{method} {url} -> {status}", { method, url: req.url, status: response.status });
    await writeResponse(res, response, {
      method,
      signal: controller.signal,
      url: req.url ?? "/",
    });
  }
}
