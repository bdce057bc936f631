/**
 * Configuration of the swarm provider, validated once with zod. The Engine API is reached
 * over a unix socket or over TCP with TLS client certificates; the certificate files are
 * read at start-up by {@linkcode readTlsFiles}, never written in the file itself.
 *
 * ```yaml
 * endpoint: unix:///var/run/docker.sock   # or tcp://manager.example:2376 with tls
 * tls:
 *   caFile: /etc/vkedge/swarm/ca.pem
 *   certFile: /etc/vkedge/swarm/cert.pem
 *   keyFile: /etc/vkedge/swarm/key.pem
 * clusterName: edge-prod                  # in every service's ownership labels
 * ```
 *
 * @module
 */

import { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  errorMessage,
  parseProviderConfig,
  processSecretSources,
  type SecretSources,
} from "../../lib/provider_kit/mod.ts";

/** Where the Engine API is: a unix socket path, or a TCP host and port. */
export type EngineEndpoint =
  | { kind: "unix"; path: string; text: string }
  | { kind: "tcp"; hostname: string; port: number; text: string };

const endpoint = z.string().transform((text, context): EngineEndpoint => {
  if (text.startsWith("unix://")) {
    const path = text.slice("unix://".length);
    if (!path.startsWith("/")) {
      context.addIssue({
        code: "custom",
        message:
          `expected an absolute socket path such as "unix:///var/run/docker.sock", found "${text}"`,
      });
      return z.NEVER;
    }
    return { kind: "unix", path, text };
  }
  const match = /^(?:tcp|https):\/\/(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(text);
  if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    context.addIssue({
      code: "custom",
      message: `expected "unix:///path/to/docker.sock" or "tcp://host:port", found "${text}"`,
    });
    return z.NEVER;
  }
  return { kind: "tcp", hostname: match[1].replace(/^\[|\]$/g, ""), port: Number(match[2]), text };
});

const labelKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$/, {
  error: (issue) => `expected a label key, found "${String(issue.input)}"`,
});

const swarmName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
  error: (issue) =>
    `expected letters, digits, '_', '.' or '-' (at most 63), found "${String(issue.input)}"`,
});

/** The swarm provider configuration (see the module documentation). */
export const swarmConfigSchema = z.object({
  /** The Engine API of a Swarm manager. */
  endpoint: endpoint.default(() => ({
    kind: "unix" as const,
    path: "/var/run/docker.sock",
    text: "unix:///var/run/docker.sock",
  })),
  /** TLS client certificate files; required with a tcp endpoint. */
  tls: z.object({
    caFile: z.string().min(1),
    certFile: z.string().min(1),
    keyFile: z.string().min(1),
  }).strict().optional(),
  /** Engine API version in request paths; Debian's docker.io 20.10 speaks 1.41. */
  apiVersion: z.string().regex(/^1\.\d{2}$/, {
    error: (issue) => `expected an API version such as "1.41", found "${String(issue.input)}"`,
  }).default("1.41"),
  /** Names this agent's cluster in the ownership labels of every service. */
  clusterName: swarmName,
  /**
   * The pod network: an attachable overlay network every container joins (default
   * `vkedge-<clusterName>`), created when missing unless `create` is false.
   */
  network: z.object({
    name: swarmName.optional(),
    create: z.boolean().default(true),
  }).strict().default({ create: true }),
  /** Swarm placement constraints of every service, such as `node.labels.site==edge-1`. */
  placementConstraints: z.array(z.string().min(1)).default([]),
  /** Swarm's restart delay after a container exits, for `Always` and `OnFailure` pods. */
  restartDelaySeconds: z.number().min(0).max(3600).default(5),
  /** Full list of services, tasks and nodes at most this far apart (events do the rest). */
  resyncSeconds: z.number().positive().max(3600).default(60),
  /** How often the node's capacity is read again from the Swarm nodes. */
  capacityRefreshSeconds: z.number().positive().max(3600).default(60),
  /** Timeout of one Engine API request (not of streams). */
  requestTimeoutSeconds: z.number().positive().max(600).default(30),
  /** `pods` of the node's capacity. */
  maxPods: z.number().int().positive().default(110),
  /** Extra labels of the Node. */
  labels: z.record(labelKey, z.string().max(63)).default({}),
}).strict().superRefine((config, context) => {
  if (config.endpoint.kind === "tcp" && config.tls === undefined) {
    context.addIssue({
      code: "custom",
      path: ["tls"],
      message:
        `expected caFile, certFile and keyFile for ${config.endpoint.text}: the Engine API over TCP needs TLS client certificates`,
    });
  }
  if (config.endpoint.kind === "unix" && config.tls !== undefined) {
    context.addIssue({
      code: "custom",
      path: ["tls"],
      message: `expected no tls with the unix socket ${config.endpoint.text}, found one`,
    });
  }
});

/** A validated swarm provider configuration. */
export type SwarmConfig = z.output<typeof swarmConfigSchema>;

/** Validates `raw` (YAML/JSON text or a parsed value); throws `InvalidInputError` naming each bad field. */
export function parseSwarmConfig(raw: unknown): SwarmConfig {
  return parseProviderConfig(swarmConfigSchema, raw, {
    provider: "swarm",
    required: "clusterName, and endpoint unless unix:///var/run/docker.sock",
  });
}

/** The PEM texts of the TLS client configuration. */
export interface TlsFiles {
  /** CA certificate(s) the Engine's certificate must chain to. */
  ca: string;
  /** The client certificate. */
  cert: string;
  /** The client key. */
  key: string;
}

/** Reads the files of `tls`; an unreadable or empty one is `InvalidInputError` naming its field. */
export async function readTlsFiles(
  tls: NonNullable<SwarmConfig["tls"]>,
  sources: SecretSources = processSecretSources,
): Promise<TlsFiles> {
  async function read(field: "caFile" | "certFile" | "keyFile"): Promise<string> {
    const path = tls[field];
    let text: string;
    try {
      text = await sources.readTextFile(path);
    } catch (error) {
      throw new InvalidInputError(
        `swarm provider config: field "tls.${field}": expected a readable PEM file, found ${
          errorMessage(error)
        } for ${path}`,
        { cause: error },
      );
    }
    if (!text.includes("-----BEGIN ")) {
      throw new InvalidInputError(
        `swarm provider config: field "tls.${field}": expected a PEM file, found none in ${path}`,
      );
    }
    return text;
  }
  return { ca: await read("caFile"), cert: await read("certFile"), key: await read("keyFile") };
}

/** The pod network's name: the configured one, else `vkedge-<clusterName>`. */
export function podNetworkName(config: SwarmConfig): string {
  return config.network.name ?? `vkedge-${config.clusterName}`.slice(0, 63);
}
