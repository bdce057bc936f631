/**
 * vkedge: a virtual kubelet. Parses flags and environment, loads the chosen
 * provider, and runs the agent until SIGTERM or SIGINT. Bad input exits with
 * status 2 and a message naming what was wrong.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { getLogger } from "@logtape/logtape";
import { ConfigError, parseCommandLine, usage } from "./lib/config.ts";
import { setupLogging } from "./lib/log.ts";
import { KubeClient, KubeConfigError, loadClientConfig } from "./lib/kube/mod.ts";
import { isInvalidInput } from "./lib/provider.ts";
import { runAgent } from "./lib/agent.ts";
import { EventRecorder } from "./lib/events.ts";
import { VERSION } from "./lib/version.ts";
import { knownProviders, loadProvider } from "./providers/mod.ts";
import { errorMessage } from "./lib/errors.ts";
import { vmMain } from "./lib/vm/cli.ts";

const EXIT_BAD_INPUT = 2;
const SHUTDOWN_GRACE_MS = 15_000;

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
    console.log(`vkedge ${VERSION}`);
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
  setupLogging({ level: config.logLevel, format: config.logFormat });
  const nodeIp = config.nodeIp ?? defaultNodeIp(config.address);
  const client = new KubeClient(clientConfig, {
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
  });
  const events = new EventRecorder(client, { component: "vkedge", host: config.nodeName });
  let provider;
  try {
    provider = await module.create({
      nodeName: config.nodeName,
      operatingSystem: config.operatingSystem,
      internalIp: nodeIp,
      daemonPort: config.kubeletPort,
      config: rawProviderConfig,
      signal: stop.signal,
      recordEvent: (pod, type, reason, message) => events.record(pod, type, reason, message),
    });
  } catch (error) {
    const message = errorMessage(error);
    fail(
      `provider ${config.provider}: ${message}`,
      isInvalidInput(error) ? EXIT_BAD_INPUT : 1,
    );
  }
  try {
    await runAgent({ config, client, provider, nodeIp, events }, stop.signal);
  } catch (error) {
    if (!stop.signal.aborted) fail(errorMessage(error), 1);
  } finally {
    client.close();
  }
  await provider.close?.().catch((error) => {
    getLogger(["vkedge", "agent"]).debug("provider close failed: {error}", {
      error: errorMessage(error),
    });
  });
  getLogger(["vkedge", "agent"]).info("stopped");
}

if (import.meta.main) {
  await main();
  Deno.exit(0);
}
