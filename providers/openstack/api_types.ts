/**
 * The replies of the OpenStack APIs the provider reads, as zod schemas: Keystone's token
 * (with its catalog), Nova's version document, servers, flavors, limits, hypervisors,
 * console output and instance actions, Glance's images, Neutron's networks, and
 * Placement's resource providers. Only the fields the provider uses are declared; the
 * rest of each object passes through unchecked, as the APIs add fields with new
 * microversions.
 *
 * @module
 */

import { z } from "zod";

/** An endpoint of the Keystone catalog. */
export const catalogEndpointSchema = z.object({
  interface: z.string(),
  url: z.string().min(1),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
});

/** One service of the Keystone catalog. */
export const catalogEntrySchema = z.object({
  type: z.string(),
  name: z.string().nullish(),
  endpoints: z.array(catalogEndpointSchema),
});

/** A catalog entry. */
export type CatalogEntry = z.output<typeof catalogEntrySchema>;

const namedSchema = z.object({ id: z.string(), name: z.string().nullish() });

/** `POST /v3/auth/tokens` (201), the token itself is the `X-Subject-Token` header. */
export const tokenReplySchema = z.object({
  token: z.object({
    expires_at: z.string().transform((text) => new Date(text)),
    issued_at: z.string().nullish(),
    user: namedSchema.extend({ domain: namedSchema.nullish() }),
    project: namedSchema.nullish(),
    roles: z.array(namedSchema).default([]),
    catalog: z.array(catalogEntrySchema).default([]),
  }),
});

/** A Keystone token reply. */
export type TokenReply = z.output<typeof tokenReplySchema>;

/** `GET <compute endpoint>/`: the version of the compute API behind the endpoint. */
export const computeVersionSchema = z.object({
  version: z.object({
    id: z.string(),
    status: z.string().nullish(),
    version: z.string().nullish(),
    min_version: z.string().nullish(),
  }),
});

const addressSchema = z.object({
  addr: z.string(),
  version: z.number().nullish(),
  "OS-EXT-IPS:type": z.string().nullish(),
  "OS-EXT-IPS-MAC:mac_addr": z.string().nullish(),
});

/** A Nova server as `GET /servers/detail` and `GET /servers/{id}` describe it (2.47+). */
export const serverSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  created: z.string().transform((text) => new Date(text)),
  updated: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  metadata: z.record(z.string(), z.string()).default({}),
  addresses: z.record(z.string(), z.array(addressSchema)).default({}),
  flavor: z.object({
    original_name: z.string().nullish(),
    vcpus: z.number().nullish(),
    ram: z.number().nullish(),
    disk: z.number().nullish(),
  }).passthrough().nullish(),
  image: z.union([z.object({ id: z.string() }).passthrough(), z.string()]).nullish(),
  "OS-EXT-SRV-ATTR:host": z.string().nullish(),
  "OS-EXT-SRV-ATTR:hypervisor_hostname": z.string().nullish(),
  "OS-EXT-STS:task_state": z.string().nullish(),
  "OS-EXT-STS:vm_state": z.string().nullish(),
  "OS-EXT-STS:power_state": z.number().nullish(),
  "OS-EXT-AZ:availability_zone": z.string().nullish(),
  "OS-SRV-USG:launched_at": z.string().nullish(),
  fault: z.object({
    code: z.number().nullish(),
    message: z.string().nullish(),
    details: z.string().nullish(),
    created: z.string().nullish(),
  }).nullish(),
  key_name: z.string().nullish(),
});

/** A Nova server. */
export type Server = z.output<typeof serverSchema>;

/** `GET /servers/detail`. */
export const serverListSchema = z.object({
  servers: z.array(serverSchema),
  servers_links: z.array(z.object({ rel: z.string(), href: z.string() })).nullish(),
});

/** `GET /servers/{id}`. */
export const serverReplySchema = z.object({ server: serverSchema });

/** `POST /servers` (202): the new server's id (the rest is a placeholder). */
export const serverCreatedSchema = z.object({ server: z.object({ id: z.string() }) });

/** A flavor as `GET /flavors/detail` describes it. */
export const flavorSchema = z.object({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ram: z.number(),
  disk: z.number(),
  "OS-FLV-DISABLED:disabled": z.boolean().nullish(),
  "os-flavor-access:is_public": z.boolean().nullish(),
});

/** A flavor. */
export type Flavor = z.output<typeof flavorSchema>;

/** `GET /flavors/detail`. */
export const flavorListSchema = z.object({ flavors: z.array(flavorSchema) });

/** `GET /limits`: the project's quota and what it uses. */
export const limitsSchema = z.object({
  limits: z.object({
    absolute: z.object({
      maxTotalInstances: z.number(),
      maxTotalCores: z.number(),
      maxTotalRAMSize: z.number(),
      totalInstancesUsed: z.number().default(0),
      totalCoresUsed: z.number().default(0),
      totalRAMUsed: z.number().default(0),
    }).passthrough(),
  }),
});

/** The absolute limits of a project. */
export type AbsoluteLimits = z.output<typeof limitsSchema>["limits"]["absolute"];

/** `GET /os-hypervisors/detail` (admin), 2.53+: ids are uuids. */
export const hypervisorListSchema = z.object({
  hypervisors: z.array(
    z.object({
      id: z.union([z.string(), z.number()]),
      hypervisor_hostname: z.string(),
      state: z.string().nullish(),
      status: z.string().nullish(),
      service: z.object({ host: z.string() }).passthrough().nullish(),
    }).passthrough(),
  ),
});

/** A hypervisor. */
export type Hypervisor = z.output<typeof hypervisorListSchema>["hypervisors"][number];

/** `POST /servers/{id}/action {"os-getConsoleOutput": …}`. */
export const consoleOutputSchema = z.object({ output: z.string().nullish() });

/** `POST /servers/{id}/action {"createImage": …}` (2.45+). */
export const imageCreatedSchema = z.object({ image_id: z.string() });

/** `GET /servers/{id}/os-instance-actions`. */
export const instanceActionsSchema = z.object({
  instanceActions: z.array(
    z.object({
      action: z.string(),
      request_id: z.string(),
      start_time: z.string().nullish(),
      message: z.string().nullish(),
    }).passthrough(),
  ),
});

/** A Glance image (v2); properties are top-level fields. */
export const imageSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string(),
  visibility: z.string().nullish(),
  size: z.number().nullish(),
  min_disk: z.number().nullish(),
  min_ram: z.number().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  instance_uuid: z.string().nullish(),
  image_type: z.string().nullish(),
}).passthrough();

/** A Glance image. */
export type Image = z.output<typeof imageSchema>;

/** `GET /v2/images`. */
export const imageListSchema = z.object({
  images: z.array(imageSchema),
  next: z.string().nullish(),
});

/** A Neutron network. */
export const networkSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string().nullish(),
  shared: z.boolean().nullish(),
});

/** A Neutron network. */
export type Network = z.output<typeof networkSchema>;

/** `GET /v2.0/networks`. */
export const networkListSchema = z.object({ networks: z.array(networkSchema) });

/** `GET /resource_providers` (Placement). */
export const resourceProviderListSchema = z.object({
  resource_providers: z.array(z.object({ uuid: z.string(), name: z.string() }).passthrough()),
});

/** `GET /resource_providers/{uuid}/inventories`. */
export const inventoriesSchema = z.object({
  inventories: z.record(
    z.string(),
    z.object({
      total: z.number(),
      reserved: z.number().default(0),
      allocation_ratio: z.number().default(1),
    }).passthrough(),
  ),
});

/** `GET /resource_providers/{uuid}/usages`. */
export const usagesSchema = z.object({ usages: z.record(z.string(), z.number()) });

/** Any JSON object (replies whose body the provider does not read). */
export const anyReplySchema = z.unknown();
