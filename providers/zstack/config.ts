/**
 * Configuration of the zstack provider, validated once with zod. Secrets (password,
 * AccessKey secret) are never written in the file itself: the file names another file or
 * an environment variable holding each one, and {@linkcode resolveZStackCredentials}
 * reads them at start-up.
 *
 * ```yaml
 * endpoint: http://zstack-mn.example:8080/zstack
 * auth:
 *   account:
 *     name: admin
 *     passwordFile: /etc/vkedge/zstack-password   # or passwordEnv: ZSTACK_PASSWORD
 * clusterName: edge-prod
 * placement:
 *   zone: zone-1          # name or uuid; cluster and host narrow it down
 *   cluster: cluster-1
 * networks:
 *   default: [l3-default] # names or uuids; the first is the pod network
 * volumes:                # PersistentVolumes as data volumes (all optional)
 *   diskOffering: disk-10g
 *   primaryStorage: ps-local
 * ```
 *
 * @module
 */

import { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  parseProviderConfig,
  processSecretSources,
  readSecret,
  type SecretSources,
} from "../../lib/provider_kit/mod.ts";
import type { ZStackCredentials } from "./session.ts";

export type { SecretSources };

const quantityPattern = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[kMGTPE]|m)?$/;

const quantity = z.union([z.string(), z.number()]).transform((value, context) => {
  const text = String(value);
  if (!quantityPattern.test(text)) {
    context.addIssue({
      code: "custom",
      message: `expected a Kubernetes quantity such as "2" or "4Gi", found "${text}"`,
    });
    return z.NEVER;
  }
  return text;
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: (issue) => `expected an environment variable name, found "${String(issue.input)}"`,
});

const nameOrUuid = z.string().min(1).max(255);

const endpoint = z.string().transform((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({
      code: "custom",
      message: `expected a URL such as "http://mn:8080/zstack", found "${text}"`,
    });
    return z.NEVER;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    context.addIssue({
      code: "custom",
      message: `expected an http or https URL, found protocol "${url.protocol}"`,
    });
    return z.NEVER;
  }
  if (url.search !== "" || url.hash !== "") {
    context.addIssue({
      code: "custom",
      message: `expected a base URL without query or fragment, found "${text}"`,
    });
    return z.NEVER;
  }
  return text.replace(/\/+$/, "");
});

const accountAuth = z.strictObject({
  /** Account name, such as `admin`. */
  name: z.string().min(1),
  /** File whose content (trailing newline dropped) is the password. */
  passwordFile: z.string().min(1).optional(),
  /** Environment variable holding the password. */
  passwordEnv: envName.optional(),
  /** Whether the secret already is the SHA-512 hex digest of the password. */
  passwordIsSha512: z.boolean().default(false),
}).superRefine((account, context) => {
  const sources = [account.passwordFile, account.passwordEnv].filter((value) =>
    value !== undefined
  );
  if (sources.length !== 1) {
    context.addIssue({
      code: "custom",
      message: `expected exactly one of "passwordFile" and "passwordEnv", found ${sources.length}`,
    });
  }
});

const accessKeyAuth = z.strictObject({
  /** AccessKey ID (not secret), or read from `idFile`/`idEnv`. */
  id: z.string().min(1).optional(),
  idFile: z.string().min(1).optional(),
  idEnv: envName.optional(),
  secretFile: z.string().min(1).optional(),
  secretEnv: envName.optional(),
}).superRefine((key, context) => {
  const ids = [key.id, key.idFile, key.idEnv].filter((value) => value !== undefined).length;
  if (ids !== 1) {
    context.addIssue({
      code: "custom",
      message: `expected exactly one of "id", "idFile" and "idEnv", found ${ids}`,
    });
  }
  const secrets = [key.secretFile, key.secretEnv].filter((value) => value !== undefined).length;
  if (secrets !== 1) {
    context.addIssue({
      code: "custom",
      message: `expected exactly one of "secretFile" and "secretEnv", found ${secrets}`,
    });
  }
});

/** What happens to the VM when its pod is deleted. */
export const podDeletePolicies = ["destroy-and-expunge", "destroy", "keep"] as const;

/** zod schema of the zstack provider's configuration file (YAML or JSON). */
export const zstackConfigSchema = z.strictObject({
  /** Base URL of the management node API, context path included. */
  endpoint,
  /** Exactly one of `account` and `accessKey`. */
  auth: z.strictObject({
    account: accountAuth.optional(),
    accessKey: accessKeyAuth.optional(),
  }).refine((auth) => (auth.account === undefined) !== (auth.accessKey === undefined), {
    error: `expected exactly one of "account" and "accessKey"`,
  }),
  /**
   * Name of the Kubernetes cluster, written into the ownership tags of every VM so that
   * two clusters sharing a ZStack never adopt each other's VMs.
   */
  clusterName: z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
    error: (issue) =>
      `expected 1-63 letters, digits, "-", "_" or "." such as "edge-prod", found "${
        String(issue.input)
      }"`,
  }),
  /** Where VMs are created and whose hosts give the node its capacity. */
  placement: z.strictObject({
    zone: nameOrUuid,
    cluster: nameOrUuid.optional(),
    host: nameOrUuid.optional(),
  }),
  /** L3 networks of pods without `zstack.vkedge.io/l3-networks` or `vkedge.io/networks`. */
  networks: z.strictObject({
    default: z.array(nameOrUuid).min(1),
  }),
  /** How container images map to ZStack images. */
  images: z.strictObject({
    /** `zstack/<alias>` → image name or uuid. */
    aliases: z.record(z.string().min(1), nameOrUuid).default({}),
  }).default({ aliases: {} }),
  /** Size of VMs whose pod names no instance offering and sets no cpu/memory. */
  defaults: z.strictObject({
    /** Instance offering (name or uuid); wins over `cpu`/`memory` when set. */
    instanceOffering: nameOrUuid.optional(),
    cpu: quantity.default("1"),
    memory: quantity.default("1Gi"),
  }).default({ cpu: "1", memory: "1Gi" }),
  /**
   * Data volumes for PersistentVolumeClaims: the disk offering and primary storage (names
   * or uuids) of classes whose parameters name none. Without a disk offering a volume is
   * sized by its claim alone; without a primary storage ZStack places it on the storage of
   * the first VM it is attached to.
   */
  volumes: z.strictObject({
    diskOffering: nameOrUuid.optional(),
    primaryStorage: nameOrUuid.optional(),
  }).default({}),
  /** `destroy-and-expunge` (default), `destroy` (recoverable for ZStack's expunge period) or `keep`. */
  onPodDelete: z.enum(podDeletePolicies).default("destroy-and-expunge"),
  /**
   * What a pod deleted by the control plane's eviction (the taint manager after the node was
   * unreachable, or the pod GC) does to its VM, which ran the whole time: `destroy`
   * (default: recoverable for ZStack's expunge period, with a Warning event saying how) or
   * `keep` (left running and released). Never an expunge.
   */
  onEvictedPodDelete: z.enum(["destroy", "keep"]).default("destroy"),
  /** Seconds between two status polls (one query of this node's VMs each). */
  pollIntervalSeconds: z.number().min(0.05).max(3600).default(5),
  /** Seconds between two refreshes of the node capacity. */
  capacityRefreshSeconds: z.number().min(1).max(86_400).default(60),
  /** `pods` capacity of the node. */
  maxPods: z.number().int().min(1).max(100_000).default(110),
  /** Requests in flight at most. */
  maxConcurrentRequests: z.number().int().min(1).max(256).default(8),
  /** Timeout of one HTTP exchange, in seconds. */
  requestTimeoutSeconds: z.number().min(0.1).max(600).default(30),
  /** Longest wait for one async job (such as a VM create), in seconds. */
  jobTimeoutSeconds: z.number().min(1).max(43_200).default(1800),
  /** Lines of VM lifecycle history kept per pod for `kubectl logs`. */
  logLines: z.number().int().min(10).max(100_000).default(500),
  /** `spec.providerID` of the node. */
  providerID: z.string().min(1).optional(),
  /** Extra node labels. */
  labels: z.record(z.string(), z.string()).default({}),
});

/** Validated zstack provider configuration. */
export type ZStackConfig = z.output<typeof zstackConfigSchema>;

/** What to do with the VM of a deleted pod. */
export type PodDeletePolicy = typeof podDeletePolicies[number];

/** What a configuration must hold at least, named when none is given. */
const requiredFields = "endpoint, auth, clusterName, placement, networks";

/**
 * Validates the zstack provider configuration (an object or YAML/JSON text). Throws
 * `InvalidInputError` naming every offending field.
 */
export function parseZStackConfig(raw: unknown): ZStackConfig {
  return parseProviderConfig(zstackConfigSchema, raw, {
    provider: "zstack",
    required: requiredFields,
  });
}

/** Reads the secrets the configuration points at and returns the client's credentials. */
export async function resolveZStackCredentials(
  config: ZStackConfig,
  sources: SecretSources = processSecretSources,
): Promise<ZStackCredentials> {
  const { account, accessKey } = config.auth;
  if (account !== undefined) {
    return {
      kind: "account",
      accountName: account.name,
      password: await readSecret({ file: account.passwordFile, env: account.passwordEnv }, {
        provider: "zstack",
        field: "auth.account.password",
        sources,
      }),
      passwordIsSha512: account.passwordIsSha512,
    };
  }
  if (accessKey === undefined) {
    throw new InvalidInputError(
      `zstack provider config: field "auth": expected "account" or "accessKey", found neither`,
    );
  }
  return {
    kind: "accessKey",
    accessKeyId: await readSecret({
      value: accessKey.id,
      file: accessKey.idFile,
      env: accessKey.idEnv,
    }, {
      provider: "zstack",
      field: "auth.accessKey.id",
      sources,
    }),
    accessKeySecret: await readSecret({ file: accessKey.secretFile, env: accessKey.secretEnv }, {
      provider: "zstack",
      field: "auth.accessKey.secret",
      sources,
    }),
  };
}
