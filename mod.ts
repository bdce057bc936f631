/**
 * vkedge: a virtual kubelet. Parses flags and environment, makes sure it is the only agent
 * of its node (a host lock, then a leader election Lease), loads the chosen provider, and
 * runs the agent until SIGTERM or SIGINT. Bad input exits with status 2 and a message
 * naming what was wrong; a second start on the same host exits 0 at once.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { getLogger } from "@logtape/logtape";
import { ConfigError, describeSettings, parseCommandLine, usage } from "./lib/config.ts";
import type { AgentConfig } from "./lib/config.ts";
import { setupLogging } from "./lib/log.ts";
import {
  KubeClient,
  KubeConfigError,
  loadClientConfig,
  SharedInformerFactory,
} from "./lib/kube/mod.ts";
import { isInvalidInput, type Provider, type ProviderModule } from "./lib/provider.ts";
import { runAgent } from "./lib/agent.ts";
import { AgentHealth } from "./lib/health.ts";
import { EventRecorder } from "./lib/events.ts";
import { versionLine } from "./lib/version.ts";
import { knownProviders, loadProvider } from "./providers/mod.ts";
import { errorMessage } from "./lib/errors.ts";
import { vmMain } from "./lib/vm/cli.ts";
import {
  acquireHostLock,
  alreadyRunningMessage,
  type LeaderElector,
  leaderElectorFor,
  LeadershipLostError,
  processIdentity,
  runAsLeader,
} from "./lib/instance/mod.ts";
import { type AgentReadiness, serveMetrics } from "./lib/metrics/mod.ts";
import { informerClusterReader } from "./lib/pods/cluster_reader.ts";

const EXIT_BAD_INPUT = 2;
const SHUTDOWN_GRACE_MS = 15_000;

/** A failure that ends the process with `code` after the Lease was released. */
class ExitError extends Error {
  override name = "ExitError";
  readonly code: number;

  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

function fail(message: string, code: number): never {
  console.error(`vkedge: ${message}`);
  if (code === EXIT_BAD_INPUT) console.error("Run 'vkedge --help' for usage.");
  Deno.exit(code);
}

async function readProviderConfig(path: string | undefined): Promise<unknown> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
    throw new ConfigError(`--provider-config: cannot read ${path}: ${reason}`);
  }
  try {
    return parseYaml(text);
  } catch (error) {
    const detail = errorMessage(error).split("\n")[0];
    throw new ConfigError(`--provider-config: ${path} is not valid YAML or JSON: ${detail}`);
  }
}

function defaultNodeIp(address: string): string {
  if (address !== "0.0.0.0" && address !== "::") return address;
  const external = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  return external?.address ?? "127.0.0.1";
}

/** The API server URL without any user information, for the log. */
function serverForLog(server: string): string {
  try {
    const url = new URL(server);
    url.username = "";
    url.password = "";
    return url.href.replace(/\/$/, "");
  } catch {
    return "(unparsable URL)";
  }
}

/** What the node's agent needs once this process may drive the node. */
interface DriveOptions {
  config: AgentConfig;
  client: KubeClient;
  events: EventRecorder;
  provider: Provider;
  nodeIp: string;
  /** The agent's shared informers (the provider's view of the cluster reads them too). */
  informers: SharedInformerFactory;
  onReady: () => void;
  /** The health checks `/healthz` reports on both ports. */
  health: AgentHealth;
}

/** Runs the agent until `signal` aborts; a start-up failure becomes an exit with status 1. */
async function driveNode(options: DriveOptions, signal: AbortSignal): Promise<void> {
  try {
    await runAgent(options, signal);
  } catch (error) {
    if (!signal.aborted) throw new ExitError(errorMessage(error), 1);
  }
}

/**
 * Creates the provider, which validates its configuration: a bad one stops the agent at
 * once, before it waits for the leader election. Providers do no work until asked.
 */
async function createProvider(
  config: AgentConfig,
  options: {
    module: ProviderModule;
    raw: unknown;
    nodeIp: string;
    events: EventRecorder;
    informers: SharedInformerFactory;
  },
  signal: AbortSignal,
): Promise<Provider> {
  try {
    return await options.module.create({
      nodeName: config.nodeName,
      operatingSystem: config.operatingSystem,
      internalIp: options.nodeIp,
      daemonPort: config.kubeletPort,
      config: options.raw,
      signal,
      recordEvent: (pod, type, reason, message) =>
        options.events.record(pod, type, reason, message),
      cluster: informerClusterReader(options.informers, config.nodeName),
    });
  } catch (error) {
    fail(
      `provider ${config.provider}: ${errorMessage(error)}`,
      isInvalidInput(error) ? EXIT_BAD_INPUT : 1,
    );
  }
}

async function main(): Promise<void> {
  if (Deno.args[0] === "vm") Deno.exit(await vmMain(Deno.args.slice(1)));
  let command;
  try {
    command = parseCommandLine(Deno.args, Deno.env.toObject());
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT_BAD_INPUT);
    throw error;
  }
  if (command.kind === "help") {
    console.log(usage(knownProviders()));
    return;
  }
  if (command.kind === "version") {
    console.log(versionLine());
    return;
  }
  const config = command.config;

  const stop = new AbortController();
  const onSignal = (signal: Deno.Signal) => {
    if (stop.signal.aborted) return;
    getLogger(["vkedge", "agent"]).info("{signal} received: stopping; pods keep running", {
      signal,
    });
    stop.abort();
    // Every loop ends on the abort; should one not, do not hang a service manager.
    setTimeout(() => {
      getLogger(["vkedge", "agent"]).error("not stopped after {seconds}s: exiting anyway", {
        seconds: SHUTDOWN_GRACE_MS / 1000,
      });
      Deno.exit(1);
    }, SHUTDOWN_GRACE_MS);
  };
  Deno.addSignalListener("SIGTERM", () => onSignal("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => onSignal("SIGINT"));

  let module;
  let rawProviderConfig: unknown;
  let clientConfig;
  try {
    module = await loadProvider(config.provider);
    rawProviderConfig = await readProviderConfig(config.providerConfigFile);
    clientConfig = await loadClientConfig({ path: config.kubeconfig });
  } catch (error) {
    const message = errorMessage(error);
    if (error instanceof ConfigError || error instanceof KubeConfigError) {
      fail(error instanceof KubeConfigError ? `kubeconfig: ${message}` : message, EXIT_BAD_INPUT);
    }
    fail(message, message.startsWith("unknown provider") ? EXIT_BAD_INPUT : 1);
  }
  // One agent per node on this host: a second start (from cron) leaves at once, after
  // bad input was reported.
  let locked;
  try {
    locked = await acquireHostLock(config.lockDir, config.nodeName);
  } catch (error) {
    fail(errorMessage(error), EXIT_BAD_INPUT);
  }
  if (!locked.acquired) {
    console.error(`vkedge: ${alreadyRunningMessage(config.nodeName, locked)}`);
    Deno.exit(0);
  }
  const hostLock = locked.lock;
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    context: { node: config.nodeName },
  });
  const log = getLogger(["vkedge", "agent"]);
  log.info("{version} starting: node {node}, provider {provider}, API server {server}", {
    version: versionLine(),
    node: config.nodeName,
    provider: config.provider,
    server: serverForLog(clientConfig.server),
  });
  log.info("settings: {settings}", { settings: describeSettings(config) });

  let elector: LeaderElector | undefined;
  let ready = false;
  const health = new AgentHealth();
  const readiness = (): AgentReadiness => {
    if (elector !== undefined && !elector.isLeader) {
      return {
        ready: false,
        detail: elector.holder === undefined
          ? `waiting for the lease ${elector.leaseKey}`
          : `standby: the lease ${elector.leaseKey} is held by ${elector.holder}`,
      };
    }
    return ready ? { ready, detail: "ready" } : { ready, detail: "starting" };
  };
  if (config.metricsAddress !== undefined) {
    try {
      serveMetrics({
        ...config.metricsAddress,
        readiness,
        health: () => health.healthz(),
      }, stop.signal);
    } catch (error) {
      fail(errorMessage(error), 1);
    }
  }
  const nodeIp = config.nodeIp ?? defaultNodeIp(config.address);
  const client = new KubeClient(clientConfig, {
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
  });
  const events = new EventRecorder(client, { component: "vkedge", host: config.nodeName });
  // One factory for the agent and the provider's view of the cluster: no second watch.
  const informers = new SharedInformerFactory(client);
  const provider = await createProvider(config, {
    module,
    raw: rawProviderConfig,
    nodeIp,
    events,
    informers,
  }, stop.signal);
  const drive = (signal: AbortSignal) =>
    driveNode({
      config,
      client,
      events,
      provider,
      nodeIp,
      informers,
      onReady: () => (ready = true),
      health,
    }, signal);
  try {
    if (!config.leaderElection.enabled) {
      await drive(stop.signal);
    } else {
      const identity = processIdentity();
      const setup = leaderElectorFor(config, clientConfig, {
        identity,
        deadHolder: hostLock.previous?.identity,
      });
      const election = setup.elector;
      elector = election;
      await hostLock.write(identity);
      // --startup-timeout also ends the wait for a Lease the API server never answered
      // about; a standby that sees a live holder waits as long as it takes.
      const unreachable = new AbortController();
      const timer = config.startupTimeoutMs > 0
        ? setTimeout(() => {
          if (!election.isLeader && election.holder === undefined) unreachable.abort();
        }, config.startupTimeoutMs)
        : undefined;
      try {
        await runAsLeader(election, drive, AbortSignal.any([stop.signal, unreachable.signal]));
      } finally {
        clearTimeout(timer);
        setup.client.close();
      }
      if (unreachable.signal.aborted && !stop.signal.aborted) {
        fail(
          `not ready within --startup-timeout=${config.startupTimeoutMs / 1000}s: the API ` +
            `server ${
              serverForLog(clientConfig.server)
            } is unavailable (cannot take the lease ${election.leaseKey}: ${
              election.lastError ?? "no answer"
            })`,
          1,
        );
      }
    }
  } catch (error) {
    if (error instanceof ExitError) fail(error.message, error.code);
    if (error instanceof LeadershipLostError) {
      log.error("{error}; exiting with status 1: the next start waits as a standby", {
        error: error.message,
      });
      Deno.exit(1);
    }
    fail(errorMessage(error), 1);
  }
  // A clean stop ends the provider's backend session (the zstack provider logs out).
  await provider.close?.().catch((error) => {
    log.debug("provider close failed: {error}", { error: errorMessage(error) });
  });
  client.close();
  log.info("stopped");
}

if (import.meta.main) {
  await main();
  Deno.exit(0);
}
