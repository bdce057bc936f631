/**
 * Routes of the kubelet's streaming endpoints, as the API server calls them for `kubectl
 * exec`, `attach`, `port-forward` and `run`: `/exec/{namespace}/{pod}[/{uid}]/{container}`,
 * `/attach/…`, `/run/…` and `/portForward/{namespace}/{pod}[/{uid}]`, GET or POST, usually as
 * SPDY/3.1 upgrades. They answer 501 on both paths until the streaming protocols exist; a
 * handler for one of them replaces the `upgrade` of its entry.
 *
 * @module
 */

import { hasExecInContainer, type Provider } from "../provider.ts";
import { HttpError } from "./http_errors.ts";
import type { Route } from "./routes.ts";

function notImplemented(provider: Provider, name: string): () => Promise<never> {
  return () =>
    Promise.reject(
      new HttpError(
        501,
        hasExecInContainer(provider)
          ? `/${name} is not supported by the vkedge kubelet API yet (streaming protocols are not implemented)`
          : `provider "${provider.name}" does not implement ExecInContainer: /${name} is not available`,
      ),
    );
}

function containerPaths(name: string): string[] {
  return [
    `/${name}/:namespace/:pod/:container`,
    `/${name}/:namespace/:pod/:uid/:container`,
  ];
}

/** The exec, attach, portForward and run routes for `provider`. */
export function streamingRoutes(provider: Provider): Route[] {
  const methods = ["GET", "POST"];
  return [
    {
      name: "exec",
      paths: containerPaths("exec"),
      methods,
      handle: notImplemented(provider, "exec"),
      upgrade: notImplemented(provider, "exec"),
    },
    {
      name: "attach",
      paths: containerPaths("attach"),
      methods,
      handle: notImplemented(provider, "attach"),
      upgrade: notImplemented(provider, "attach"),
    },
    {
      name: "portForward",
      paths: ["/portForward/:namespace/:pod", "/portForward/:namespace/:pod/:uid"],
      methods,
      handle: notImplemented(provider, "portForward"),
      upgrade: notImplemented(provider, "portForward"),
    },
    {
      name: "run",
      paths: containerPaths("run"),
      methods,
      handle: notImplemented(provider, "run"),
      upgrade: notImplemented(provider, "run"),
    },
  ];
}
