/**
 * Routes of the kubelet's streaming endpoints, as the API server calls them for `kubectl
 * exec`, `attach` and `port-forward`: `/exec/{namespace}/{pod}[/{uid}]/{container}`,
 * `/attach/…` and `/portForward/{namespace}/{pod}[/{uid}]`, GET or POST, as SPDY/3.1 or
 * WebSocket upgrades; and `/run/…`, a plain POST that runs a command and answers with its
 * output. Each needs its provider capability (501 without it), checks the pod and container
 * before switching protocols (404), then hands the connection to the protocol's server.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  type ContainerRef,
  type ExecStreams,
  hasAttachToContainer,
  hasExecInContainer,
  hasPortForwarder,
  NotFoundError,
  type PodRef,
  type Provider,
} from "../provider.ts";
import { HttpError } from "./http_errors.ts";
import {
  type CommandOutcome,
  exitCodeOf,
  type RemoteCommandOptions,
  remoteCommandOptions,
} from "./remote_command.ts";
import type { Route, UpgradeContext } from "./routes.ts";
import {
  type RemoteCommandRunner,
  serveSpdyRemoteCommand,
  type StreamTimeouts,
} from "./spdy_remote_command.ts";
import { serveSpdyPortForward } from "./spdy_port_forward.ts";
import {
  isWebSocketUpgrade,
  serveWebSocketPortForward,
  serveWebSocketRemoteCommand,
} from "./websocket_streaming.ts";

/** How the streaming endpoints behave. */
export interface StreamingOptions {
  /** Idle and creation timeouts of every session. */
  timeouts: StreamTimeouts;
  /**
   * Accept kubectl's own WebSocket protocols (v5 exec and attach, the
   * `SPDY/3.1+portforward.k8s.io` tunnel), which the API server passes through only to a
   * node that declares `ExtendWebSocketsToKubelet`.
   */
  extendWebSockets: boolean;
}

/** Defaults: the kubelet's 4 h idle timeout and 30 s stream creation timeout, no v5. */
export const defaultStreamingOptions: StreamingOptions = {
  timeouts: { idleTimeoutMs: 4 * 60 * 60 * 1000, creationTimeoutMs: 30_000 },
  extendWebSockets: false,
};

function lacks(provider: Provider, capability: string, name: string): HttpError {
  return new HttpError(
    501,
    `provider "${provider.name}" does not implement ${capability}: /${name} is not available`,
  );
}

function containerPaths(name: string): string[] {
  return [
    `/${name}/:namespace/:pod/:container`,
    `/${name}/:namespace/:pod/:uid/:container`,
  ];
}

function podRef(params: Record<string, string>): PodRef {
  return {
    namespace: params.namespace,
    pod: params.pod,
    ...(params.uid === undefined ? {} : { uid: params.uid }),
  };
}

/** The pod `ref` names, as the provider runs it; a 404 when it does not (or has another UID). */
async function findPod(provider: Provider, ref: PodRef, signal: AbortSignal): Promise<Pod> {
  const pod = await provider.getPod(ref.namespace, ref.pod, signal);
  if (pod === undefined) {
    throw new NotFoundError(`pod ${ref.namespace}/${ref.pod} not found on this node`);
  }
  if (ref.uid !== undefined && pod.metadata?.uid !== undefined && pod.metadata.uid !== ref.uid) {
    throw new NotFoundError(
      `pod ${ref.namespace}/${ref.pod} has UID ${pod.metadata.uid}, not the requested ${ref.uid}`,
    );
  }
  return pod;
}

async function findContainer(
  provider: Provider,
  params: Record<string, string>,
  signal: AbortSignal,
): Promise<ContainerRef> {
  const ref = podRef(params);
  const pod = await findPod(provider, ref, signal);
  const spec = pod.spec;
  const names = [
    ...(spec?.containers ?? []),
    ...(spec?.initContainers ?? []),
    ...(spec?.ephemeralContainers ?? []),
  ].map((container) => container.name);
  if (!names.includes(params.container)) {
    throw new NotFoundError(
      `container "${params.container}" not found in pod ${ref.namespace}/${ref.pod}: expected one of ${
        names.map((each) => `"${each}"`).join(", ")
      }`,
    );
  }
  return { namespace: ref.namespace, pod: ref.pod, container: params.container };
}

function sessionName(kind: string, ref: ContainerRef | PodRef): string {
  return `${kind} ${ref.namespace}/${ref.pod}${"container" in ref ? `/${ref.container}` : ""}`;
}

async function serveRemoteCommand(
  context: UpgradeContext,
  options: StreamingOptions,
  session: { query: RemoteCommandOptions; run: RemoteCommandRunner; name: string },
): Promise<void> {
  if (isWebSocketUpgrade(context.request)) {
    await serveWebSocketRemoteCommand(context, { ...session, ...options });
  } else {
    await serveSpdyRemoteCommand(context, { ...session, timeouts: options.timeouts });
  }
}

function execRoute(provider: Provider, options: StreamingOptions): Route {
  return {
    name: "exec",
    paths: containerPaths("exec"),
    methods: ["GET", "POST"],
    async upgrade(context) {
      if (!hasExecInContainer(provider)) throw lacks(provider, "ExecInContainer", "exec");
      const query = remoteCommandOptions(context.url.searchParams, { requireCommand: true });
      const ref = await findContainer(provider, context.params, context.signal);
      const run = async (streams: ExecStreams, signal: AbortSignal): Promise<CommandOutcome> => {
        try {
          const code = await provider.runInContainer(
            ref,
            { command: query.command, streams },
            signal,
          );
          return { kind: "exited", code: exitCodeOf(code), command: query.command };
        } catch (error) {
          return { kind: "failed", error };
        }
      };
      await serveRemoteCommand(context, options, { query, run, name: sessionName("exec", ref) });
    },
  };
}

function attachRoute(provider: Provider, options: StreamingOptions): Route {
  return {
    name: "attach",
    paths: containerPaths("attach"),
    methods: ["GET", "POST"],
    async upgrade(context) {
      if (!hasAttachToContainer(provider)) {
        throw lacks(provider, "AttachToContainer", "attach");
      }
      const query = remoteCommandOptions(context.url.searchParams, { requireCommand: false });
      const ref = await findContainer(provider, context.params, context.signal);
      const run = async (streams: ExecStreams, signal: AbortSignal): Promise<CommandOutcome> => {
        try {
          await provider.attachToContainer(ref, { streams }, signal);
          return { kind: "attached" };
        } catch (error) {
          return { kind: "failed", error };
        }
      };
      await serveRemoteCommand(context, options, {
        query,
        run,
        name: sessionName("attach", ref),
      });
    },
  };
}

function portForwardRoute(provider: Provider, options: StreamingOptions): Route {
  return {
    name: "portForward",
    paths: ["/portForward/:namespace/:pod", "/portForward/:namespace/:pod/:uid"],
    methods: ["GET", "POST"],
    async upgrade(context) {
      if (!hasPortForwarder(provider)) throw lacks(provider, "PortForwarder", "portForward");
      const ref = podRef(context.params);
      await findPod(provider, ref, context.signal);
      const forward = {
        ref,
        forward: provider.portForward.bind(provider),
        name: sessionName("port-forward", ref),
      };
      if (isWebSocketUpgrade(context.request)) {
        await serveWebSocketPortForward(context, { ...forward, ...options });
      } else {
        await serveSpdyPortForward(context, { ...forward, timeouts: options.timeouts });
      }
    },
  };
}

/** The kubelet's `/run`: runs `cmd` (split at spaces) and answers with stdout and stderr. */
function runRoute(provider: Provider): Route {
  return {
    name: "run",
    paths: containerPaths("run"),
    methods: ["POST"],
    async handle({ params, url, signal }) {
      if (!hasExecInContainer(provider)) throw lacks(provider, "ExecInContainer", "run");
      const command = (url.searchParams.get("cmd") ?? "").split(" ").filter((part) => part);
      if (command.length === 0) throw new HttpError(400, "expected a command (query cmd=...)");
      const ref = await findContainer(provider, params, signal);
      const output: Uint8Array[] = [];
      const collect = () => new WritableStream<Uint8Array>({ write: (c) => void output.push(c) });
      await provider.runInContainer(ref, {
        command,
        streams: { tty: false, stdout: collect(), stderr: collect() },
      }, signal);
      return new Response(new Blob(output.map((chunk) => chunk.slice())), {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    },
  };
}

/** The exec, attach, portForward and run routes for `provider`. */
export function streamingRoutes(
  provider: Provider,
  options: StreamingOptions = defaultStreamingOptions,
): Route[] {
  return [
    execRoute(provider, options),
    attachRoute(provider, options),
    portForwardRoute(provider, options),
    runRoute(provider),
  ];
}
