/**
 * Configuration of the openstack provider, validated once with zod. Secrets (password,
 * application credential secret) are never written in the file itself: the file names
 * another file or an environment variable holding each one, and
 * {@linkcode resolveOpenStackCredentials} reads them at start-up.
 *
 * ```yaml
 * auth:
 *   url: https://keystone.example:5000/v3
 *   password:
 *     username: vkedge
 *     passwordFile: /etc/vkedge/openstack-password   # or passwordEnv: OS_PASSWORD
 *     project: edge
 * region: RegionOne
 * clusterName: edge-prod
 * networks:
 *   default: [private]   # names or ids; [none] for servers without a network
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
import type { KeystoneCredentials } from "./keystone.ts";

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

const nameOrId = z.string().min(1).max(255);

function httpUrl(example: string) {
  return z.string().transform((text, context) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      context.addIssue({
        code: "custom",
        message: `expected a URL such as "${example}", found "${text}"`,
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
}

function exactlyOne(
  object: Record<string, unknown>,
  keys: string[],
  context: z.RefinementCtx,
): void {
  const given = keys.filter((key) => object[key] !== undefined);
  if (given.length !== 1) {
    context.addIssue({
      code: "custom",
      message: `expected exactly one of ${keys.map((key) => `"${key}"`).join(", ")}, found ${
        given.length === 0 ? "none" : given.map((key) => `"${key}"`).join(", ")
      }`,
    });
  }
}

const passwordAuth = z.strictObject({
  /** User name (in `userDomain`), or `userId`. */
  username: z.string().min(1).optional(),
  userId: z.string().min(1).optional(),
  /** Domain of the user, by name (default `Default`), or `userDomainId`. */
  userDomain: z.string().min(1).optional(),
  userDomainId: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
  passwordEnv: envName.optional(),
  /** The project the token is scoped to, by name (in `projectDomain`), or `projectId`. */
  project: z.string().min(1).optional(),
  projectId: z.string().min(1).optional(),
  projectDomain: z.string().min(1).optional(),
  projectDomainId: z.string().min(1).optional(),
}).superRefine((auth, context) => {
  exactlyOne(auth, ["username", "userId"], context);
  exactlyOne(auth, ["passwordFile", "passwordEnv"], context);
  exactlyOne(auth, ["project", "projectId"], context);
});

const applicationCredentialAuth = z.strictObject({
  /** The credential's id (not secret), or read from `idFile`/`idEnv`. */
  id: z.string().min(1).optional(),
  idFile: z.string().min(1).optional(),
  idEnv: envName.optional(),
  /** Or its name, with its user. */
  name: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  userDomain: z.string().min(1).optional(),
  secretFile: z.string().min(1).optional(),
  secretEnv: envName.optional(),
}).superRefine((auth, context) => {
  exactlyOne(auth, ["id", "idFile", "idEnv", "name"], context);
  exactlyOne(auth, ["secretFile", "secretEnv"], context);
  if (auth.name !== undefined && auth.username === undefined) {
    context.addIssue({
      code: "custom",
      message: `expected "username" with "name" (a credential is named per user), found none`,
    });
  }
});

/** What happens to the server when its pod is deleted. */
export const podDeletePolicies = ["delete", "keep"] as const;

/** How VMs migrate: live, cold (a short power cycle), not at all, or live if the policy lets us. */
export const migrationModes = ["auto", "live", "cold", "off"] as const;

/** zod schema of the openstack provider's configuration file (YAML or JSON). */
export const openstackConfigSchema = z.strictObject({
  auth: z.strictObject({
    /** Keystone v3 URL. */
    url: httpUrl("https://keystone.example:5000/v3"),
    password: passwordAuth.optional(),
    applicationCredential: applicationCredentialAuth.optional(),
  }).refine(
    (auth) => (auth.password === undefined) !== (auth.applicationCredential === undefined),
    {
      error: `expected exactly one of "password" and "applicationCredential"`,
    },
  ),
  /** Region of the endpoints (any when absent). */
  region: z.string().min(1).optional(),
  /** Catalog interface of the endpoints. */
  interface: z.enum(["public", "internal", "admin"]).default("public"),
  /** URLs replacing the catalog's. */
  endpoints: z.strictObject({
    compute: httpUrl("https://nova.example:8774/v2.1").optional(),
    image: httpUrl("https://glance.example:9292").optional(),
    network: httpUrl("https://neutron.example:9696").optional(),
    placement: httpUrl("https://placement.example:8778").optional(),
  }).default({}),
  /**
   * Name of the Kubernetes cluster, in the ownership metadata and tags of every server so
   * that two clusters sharing a project never adopt each other's servers.
   */
  clusterName: z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
    error: (issue) =>
      `expected 1-63 letters, digits, "-", "_" or "." such as "edge-prod", found "${
        String(issue.input)
      }"`,
  }),
  /** Availability zone of new servers (Nova's default when absent). */
  availabilityZone: z.string().min(1).optional(),
  /** Networks of pods without `openstack.vkedge.io/networks` or `vkedge.io/networks`. */
  networks: z.strictObject({
    /** Names or ids; the first is the pod network. `[none]` makes servers without one. */
    default: z.array(nameOrId).min(1),
  }),
  /** How container images map to Glance images. */
  images: z.strictObject({
    /** `openstack/<alias>` → image name or id. */
    aliases: z.record(z.string().min(1), nameOrId).default({}),
  }).default({ aliases: {} }),
  /** Flavors pods may get. */
  flavors: z.strictObject({
    /** Flavor of pods that set no cpu and memory (else the smallest that fits `defaults`). */
    default: nameOrId.optional(),
    /** Only these (names or ids) are candidates for the smallest that fits; all when absent. */
    allowed: z.array(nameOrId).min(1).optional(),
  }).default({}),
  /** Size of pods that set no cpu/memory and when no default flavor is named. */
  defaults: z.strictObject({
    cpu: quantity.default("1"),
    memory: quantity.default("512Mi"),
  }).default({ cpu: "1", memory: "512Mi" }),
  /** Key pair of new servers (annotation `openstack.vkedge.io/key-name` overrides it). */
  keyName: z.string().min(1).optional(),
  /** Security groups (names) of new servers (annotation `openstack.vkedge.io/security-groups`). */
  securityGroups: z.array(z.string().min(1)).optional(),
  /** `delete` (default) or `keep` (left running and released). */
  onPodDelete: z.enum(podDeletePolicies).default("delete"),
  /**
   * What a pod deleted by the control plane's eviction does to its server, which ran the
   * whole time: `keep` (default: left running and released) or `stop` (powered off, kept,
   * released). Never a delete: Nova's deletes are final unless the cloud reclaims later.
   */
  onEvictedPodDelete: z.enum(["keep", "stop"]).default("keep"),
  /** VM migration: `auto` (live, if the credentials may), `live`, `cold` or `off`. */
  migration: z.enum(migrationModes).default("auto"),
  /** Seconds between two status polls (one list of this node's servers each). */
  pollIntervalSeconds: z.number().min(0.05).max(3600).default(5),
  /** Seconds between two refreshes of the node capacity. */
  capacityRefreshSeconds: z.number().min(1).max(86_400).default(60),
  /** `pods` capacity of the node. */
  maxPods: z.number().int().min(1).max(100_000).default(110),
  /** Requests in flight at most. */
  maxConcurrentRequests: z.number().int().min(1).max(256).default(8),
  /** Timeout of one HTTP exchange, in seconds. */
  requestTimeoutSeconds: z.number().min(0.1).max(600).default(30),
  /** Longest wait for a server action (stop, start, reboot, snapshot, migration), in seconds. */
  actionTimeoutSeconds: z.number().min(1).max(43_200).default(600),
  /** Lines of log (lifecycle and console) kept per pod for `kubectl logs`. */
  logLines: z.number().int().min(10).max(100_000).default(500),
  /** `spec.providerID` of the node. */
  providerID: z.string().min(1).optional(),
  /** Extra node labels. */
  labels: z.record(z.string(), z.string()).default({}),
});

/** Validated openstack provider configuration. */
export type OpenStackConfig = z.output<typeof openstackConfigSchema>;

/** What a configuration must hold at least, named when none is given. */
const requiredFields = "auth, clusterName, networks";

/**
 * Validates the openstack provider configuration (an object or YAML/JSON text). Throws
 * `InvalidInputError` naming every offending field.
 */
export function parseOpenStackConfig(raw: unknown): OpenStackConfig {
  return parseProviderConfig(openstackConfigSchema, raw, {
    provider: "openstack",
    required: requiredFields,
  });
}

function domain(
  name: string | undefined,
  id: string | undefined,
): { id: string } | { name: string } {
  return id !== undefined ? { id } : { name: name ?? "Default" };
}

/** Reads the secrets the configuration points at and returns the Keystone credentials. */
export async function resolveOpenStackCredentials(
  config: OpenStackConfig,
  sources: SecretSources = processSecretSources,
): Promise<KeystoneCredentials> {
  const { password, applicationCredential } = config.auth;
  if (password !== undefined) {
    return {
      kind: "password",
      user: password.userId !== undefined ? { id: password.userId } : {
        name: password.username!,
        domain: domain(password.userDomain, password.userDomainId),
      },
      password: await readSecret({ file: password.passwordFile, env: password.passwordEnv }, {
        provider: "openstack",
        field: "auth.password.password",
        sources,
      }),
      project: password.projectId !== undefined ? { id: password.projectId } : {
        name: password.project!,
        domain: domain(password.projectDomain, password.projectDomainId),
      },
    };
  }
  if (applicationCredential === undefined) {
    throw new InvalidInputError(
      `openstack provider config: field "auth": expected "password" or "applicationCredential", found neither`,
    );
  }
  const secret = await readSecret({
    file: applicationCredential.secretFile,
    env: applicationCredential.secretEnv,
  }, { provider: "openstack", field: "auth.applicationCredential.secret", sources });
  if (applicationCredential.name !== undefined) {
    return {
      kind: "applicationCredential",
      credential: {
        name: applicationCredential.name,
        user: {
          name: applicationCredential.username!,
          domain: { name: applicationCredential.userDomain ?? "Default" },
        },
      },
      secret,
    };
  }
  const id = await readSecret({
    value: applicationCredential.id,
    file: applicationCredential.idFile,
    env: applicationCredential.idEnv,
  }, { provider: "openstack", field: "auth.applicationCredential.id", sources });
  return { kind: "applicationCredential", credential: { id }, secret };
}
