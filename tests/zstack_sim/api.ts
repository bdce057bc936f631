/**
 * The ZStack APIs the simulator serves: route, body key (`parameterName` of the SDK
 * action), whether the call is a query, a synchronous call or an async job, the JSON types
 * the REST layer checks, and what each one does to the state.
 *
 * @module
 */

import type { Auth, Identity } from "./auth.ts";
import { COLLECTIONS } from "./collections.ts";
import {
  ApiError,
  errorCode,
  HttpError,
  invalidArgument,
  missingField,
  operationError,
  resourceNotFound,
} from "./errors.ts";
import { type Host, newUuid } from "./inventory.ts";
import type { SimState } from "./state.ts";

/** The JSON types the REST layer checks before an API is accepted. */
export type FieldType = "string" | "int" | "long" | "boolean" | "stringList" | "longList" | "map";

/** The parameters of one API call, type-checked already. */
export class Params {
  /** The params object (or action object) of the body, or the query string of a DELETE. */
  readonly raw: Record<string, unknown>;

  /** Wraps checked parameters. */
  constructor(raw: Record<string, unknown>) {
    this.raw = raw;
  }

  /** A string parameter. */
  string(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : String(value);
  }

  /** A numeric parameter (JSON numbers, or strings of digits as Gson accepts them). */
  number(name: string): number | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : Number(value);
  }

  /** A boolean parameter. */
  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : value === true || value === "true";
  }

  /** A list of strings. */
  strings(name: string): string[] | undefined {
    const value = this.raw[name];
    return Array.isArray(value) ? value.map(String) : undefined;
  }

  /** A list of numbers. */
  numbers(name: string): number[] | undefined {
    const value = this.raw[name];
    return Array.isArray(value) ? value.map(Number) : undefined;
  }
}

/** What an API handler gets. */
export interface ApiContext {
  state: SimState;
  auth: Auth;
  /** Path variables by name (`uuid`, `volumeUuid`, ...). */
  path: Record<string, string>;
  query: URLSearchParams;
  params: Params;
  systemTags: string[];
  userTags: string[];
  /** Who calls; absent for the APIs that need no authentication. */
  identity?: Identity;
}

/** One API. */
export interface ApiSpec {
  /** The API name without `API` and `Msg`, e.g. `StartVmInstance`. */
  name: string;
  /** `query` and `sync` answer at once; `async` answers 202 and runs as a job. */
  kind: "query" | "sync" | "async";
  /** False for the session APIs, which need no Authorization header. */
  authenticated: boolean;
  /** Parameter types checked by the REST layer (400 on a mismatch). */
  fields?: Record<string, FieldType>;
  /** The `apiTimeout` announced in the 202 answer, in milliseconds (30 min by default). */
  timeoutMs?: number;
  /** For queries, the collection path below `/v1`. */
  collection?: string;
  /** Runs the API; the returned object is the reply body before serialization. */
  run(context: ApiContext): unknown;
}

/** One route; PUT routes choose among `actions` by the body's key. */
export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** The path below the context path, e.g. `/v1/vm-instances/{uuid}/actions`. */
  pattern: string;
  api?: ApiSpec;
  actions?: Record<string, ApiSpec>;
}

const HOUR = 3600_000;

function describeValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isInteger(value: unknown): boolean {
  if (typeof value === "number") return Number.isInteger(value);
  return typeof value === "string" && /^-?\d+$/.test(value.trim());
}

/** Checks JSON types as the REST layer does before the API is accepted (400 on a mismatch). */
export function checkFieldTypes(
  raw: Record<string, unknown>,
  fields: Record<string, FieldType>,
): void {
  for (const [name, type] of Object.entries(fields)) {
    const value = raw[name];
    if (value === undefined || value === null) continue;
    const bad = (expected: string) =>
      new HttpError(
        400,
        `[${name}] field is excepted ${expected}, but was [${describeValue(value)}].`,
      );
    switch (type) {
      case "int":
      case "long":
        if (!isInteger(value)) throw bad("an int or long");
        break;
      case "boolean":
        if (typeof value !== "boolean" && value !== "true" && value !== "false") {
          throw bad("a boolean");
        }
        break;
      case "string":
        if (typeof value === "object") throw bad("a string");
        break;
      case "stringList":
        if (!Array.isArray(value) || value.some((item) => typeof item === "object")) {
          throw bad("a list");
        }
        break;
      case "longList":
        if (!Array.isArray(value) || !value.every(isInteger)) throw bad("a list of int or long");
        break;
      case "map":
        if (typeof value !== "object" || Array.isArray(value)) throw bad("a map");
        break;
    }
  }
}

/** List parameters of GET calls: repeated keys, or `key.0`, `key.1`, ... */
function listParam(query: URLSearchParams, name: string): string[] {
  const values = query.getAll(name).flatMap((value) => value.split(",")).filter(Boolean);
  for (const [key, value] of query) {
    if (key.startsWith(`${name}.`) && value) values.push(value);
  }
  return values;
}

function required<T>(value: T | undefined, field: string, apiClass: string): T {
  if (value === undefined) throw missingField(field, apiClass);
  return value;
}

function queryApi(name: string, collection: string): ApiSpec {
  return { name, kind: "query", authenticated: true, collection, run: () => ({}) };
}

function queryRoutes(name: string, collection: string): Route[] {
  const api = queryApi(name, collection);
  return [
    { method: "GET", pattern: `/v1${collection}`, api },
    { method: "GET", pattern: `/v1${collection}/{uuid}`, api },
  ];
}

/** An API answered 202 and run as a job. */
function asyncApi(
  name: string,
  run: (context: ApiContext) => Promise<unknown>,
  fields?: Record<string, FieldType>,
  timeoutMs?: number,
): ApiSpec {
  return { name, kind: "async", authenticated: true, run, fields, timeoutMs };
}

function inventory(value: unknown): { inventory: unknown } {
  return { inventory: value };
}

function capacityOf(hosts: Host[]): Record<string, number> {
  const sum = (pick: (host: Host) => number) =>
    hosts.reduce((total, host) => total + pick(host), 0);
  return {
    totalCpu: sum((host) => host.totalCpuCapacity),
    availableCpu: sum((host) => host.availableCpuCapacity),
    totalMemory: sum((host) => host.totalMemoryCapacity),
    availableMemory: sum((host) => host.availableMemoryCapacity),
    managedCpuNum: sum((host) => host.cpuNum),
  };
}

function hostCapacities({ state, query }: ApiContext): Record<string, unknown> {
  const hostUuids = listParam(query, "hostUuids");
  const clusterUuids = listParam(query, "clusterUuids");
  const zoneUuids = listParam(query, "zoneUuids");
  const all = query.get("all") === "true";
  const hypervisorType = query.get("hypervisorType");
  if (!all && hostUuids.length === 0 && clusterUuids.length === 0 && zoneUuids.length === 0) {
    throw invalidArgument(
      "zoneUuids, clusterUuids, hostUuids must at least have one be none-empty list, or all is set to true",
    );
  }
  const hosts = [...state.hosts.values()].filter((host) =>
    !hypervisorType || host.hypervisorType === hypervisorType
  );
  let resourceType: string;
  let groups: [string, Host[]][];
  if (hostUuids.length > 0) {
    resourceType = "HostVO";
    groups = hostUuids.map((uuid) => [uuid, hosts.filter((host) => host.uuid === uuid)]);
  } else if (clusterUuids.length > 0) {
    resourceType = "ClusterVO";
    groups = clusterUuids.map((uuid) => [uuid, hosts.filter((host) => host.clusterUuid === uuid)]);
  } else {
    resourceType = "ZoneVO";
    const zones = zoneUuids.length > 0 ? zoneUuids : [...state.zones.keys()];
    groups = zones.map((uuid) => [uuid, hosts.filter((host) => host.zoneUuid === uuid)]);
  }
  return {
    ...capacityOf(groups.flatMap(([, members]) => members)),
    resourceType,
    capacityData: groups.map(([resourceUuid, members]) => ({
      resourceUuid,
      ...capacityOf(members),
    })),
    success: true,
  };
}

function ipCapacity({ state, query }: ApiContext): Record<string, unknown> {
  const l3Uuids = listParam(query, "l3NetworkUuids");
  const zoneUuids = listParam(query, "zoneUuids");
  const all = query.get("all") === "true";
  if (
    !all && l3Uuids.length === 0 && zoneUuids.length === 0 &&
    listParam(query, "ipRangeUuids").length === 0
  ) {
    throw invalidArgument(
      "at least one of l3NetworkUuids, ipRangeUuids, zoneUuids must be set, or all is set to true",
    );
  }
  const l3s = [...state.l3Networks.values()].filter((l3) =>
    all || l3Uuids.includes(l3.uuid) || zoneUuids.includes(l3.zoneUuid)
  );
  let total = 0;
  let used = 0;
  for (const l3 of l3s) {
    const capacity = state.ipCapacity(l3);
    total += capacity.total;
    used += capacity.used;
  }
  return {
    totalCapacity: total,
    availableCapacity: total - used,
    usedIpAddressNumber: used,
    ipv4TotalCapacity: total,
    ipv4AvailableCapacity: total - used,
    ipv4UsedIpAddressNumber: used,
    ipv6TotalCapacity: 0,
    ipv6AvailableCapacity: 0,
    ipv6UsedIpAddressNumber: 0,
    success: true,
  };
}

function freeIps({ state, query }: ApiContext): Record<string, unknown> {
  const l3Uuid = query.get("l3NetworkUuid");
  const rangeUuid = query.get("ipRangeUuid");
  const limit = Number(query.get("limit") ?? 100);
  const l3 = l3Uuid
    ? state.l3Networks.get(l3Uuid)
    : [...state.l3Networks.values()].find((network) =>
      network.ipRanges.some((r) => r.uuid === rangeUuid)
    );
  if (!l3Uuid && !rangeUuid) {
    throw invalidArgument("l3NetworkUuid and ipRangeUuid cannot both be null");
  }
  if (!l3) {
    throw resourceNotFound(
      l3Uuid ? "l3NetworkUuid" : "ipRangeUuid",
      l3Uuid ?? rangeUuid ?? "",
      l3Uuid ? "L3NetworkVO" : "IpRangeVO",
    );
  }
  const free = state.freeIps(l3, Number.isFinite(limit) ? limit : 100)
    .filter(({ range }) => !rangeUuid || range.uuid === rangeUuid);
  return {
    inventories: free.map(({ range, ip }) => ({
      ipRangeUuid: range.uuid,
      ip,
      netmask: range.netmask,
      gateway: range.gateway,
    })),
  };
}

const VM_CREATE_FIELDS: Record<string, FieldType> = {
  name: "string",
  description: "string",
  instanceOfferingUuid: "string",
  cpuNum: "int",
  memorySize: "long",
  reservedMemorySize: "long",
  imageUuid: "string",
  l3NetworkUuids: "stringList",
  defaultL3NetworkUuid: "string",
  zoneUuid: "string",
  clusterUuid: "string",
  hostUuid: "string",
  rootDiskSize: "long",
  rootDiskOfferingUuid: "string",
  dataDiskOfferingUuids: "stringList",
  dataDiskSizes: "longList",
  primaryStorageUuidForRootVolume: "string",
  strategy: "string",
  type: "string",
  platform: "string",
  guestOsType: "string",
  architecture: "string",
  resourceUuid: "string",
};

const createVm: ApiSpec = {
  name: "CreateVmInstance",
  kind: "async",
  authenticated: true,
  fields: VM_CREATE_FIELDS,
  timeoutMs: 12 * HOUR,
  async run({ state, params, systemTags, userTags }) {
    const request = {
      systemTags,
      userTags,
      ...Object.fromEntries(
        Object.entries(VM_CREATE_FIELDS).map(([field, type]) => {
          const value = type === "stringList"
            ? params.strings(field)
            : type === "longList"
            ? params.numbers(field)
            : type === "string"
            ? params.string(field)
            : params.number(field);
          return [field, value];
        }),
      ),
    };
    return inventory(await state.createVm(request));
  },
};

const vmActions: Record<string, ApiSpec> = {
  startVmInstance: asyncApi(
    "StartVmInstance",
    async ({ state, path, params }) =>
      inventory(
        await state.startVm(path.uuid, {
          hostUuid: params.string("hostUuid"),
          clusterUuid: params.string("clusterUuid"),
        }),
      ),
    { hostUuid: "string", clusterUuid: "string" },
  ),
  stopVmInstance: asyncApi(
    "StopVmInstance",
    async ({ state, path, params }) => {
      const type = params.string("type") ?? "grace";
      if (type !== "grace" && type !== "cold") {
        throw invalidArgument(
          `valid value for field[type] of message[org.zstack.header.vm.APIStopVmInstanceMsg] are [grace, cold], but ${type} found`,
        );
      }
      return inventory(await state.stopVm(path.uuid));
    },
    { type: "string", stopHA: "string" },
  ),
  rebootVmInstance: asyncApi(
    "RebootVmInstance",
    async ({ state, path }) => inventory(await state.rebootVm(path.uuid)),
  ),
  pauseVmInstance: asyncApi(
    "PauseVmInstance",
    async ({ state, path }) => inventory(await state.pauseVm(path.uuid)),
  ),
  resumeVmInstance: asyncApi(
    "ResumeVmInstance",
    async ({ state, path }) => inventory(await state.resumeVm(path.uuid)),
  ),
  recoverVmInstance: asyncApi(
    "RecoverVmInstance",
    async ({ state, path }) => inventory(await state.recoverVm(path.uuid)),
  ),
  expungeVmInstance: asyncApi(
    "ExpungeVmInstance",
    async ({ state, path }) => {
      await state.expungeVm(path.uuid);
      return {};
    },
    undefined,
    3 * HOUR,
  ),
  migrateVm: asyncApi(
    "MigrateVm",
    async ({ state, path, params }) =>
      inventory(await state.migrateVm(path.uuid, params.string("hostUuid"))),
    {
      hostUuid: "string",
      migrateFromDestination: "boolean",
      allowUnknown: "boolean",
      strategy: "string",
      downTime: "int",
    },
    HOUR,
  ),
  updateVmInstance: asyncApi(
    "UpdateVmInstance",
    async ({ state, path, params }) => {
      const cpuNum = params.number("cpuNum");
      if (cpuNum !== undefined && (cpuNum < 1 || cpuNum > 1024)) {
        throw invalidArgument(
          `field[cpuNum] of message[org.zstack.header.vm.APIUpdateVmInstanceMsg] must be in range of [1, 1024]`,
        );
      }
      return inventory(
        await state.updateVm(path.uuid, {
          name: params.string("name"),
          description: params.string("description"),
          cpuNum,
          memorySize: params.number("memorySize"),
        }),
      );
    },
    { name: "string", description: "string", state: "string", cpuNum: "int", memorySize: "long" },
  ),
  changeInstanceOffering: asyncApi(
    "ChangeInstanceOffering",
    async ({ state, path, params }) => {
      const offering = required(
        params.string("instanceOfferingUuid"),
        "instanceOfferingUuid",
        "org.zstack.header.vm.APIChangeInstanceOfferingMsg",
      );
      return inventory(await state.changeInstanceOffering(path.uuid, offering));
    },
    { instanceOfferingUuid: "string" },
  ),
};

function createTagApi(type: "User" | "System"): ApiSpec {
  const apiClass = `org.zstack.header.tag.APICreate${type}TagMsg`;
  return {
    name: `Create${type}Tag`,
    kind: "async",
    authenticated: true,
    fields: {
      resourceType: "string",
      resourceUuid: "string",
      tag: "string",
      resourceUuidOfTag: "string",
    },
    run({ state, params }) {
      const created = state.createTag(
        type,
        required(params.string("resourceType"), "resourceType", apiClass),
        required(params.string("resourceUuid"), "resourceUuid", apiClass),
        required(params.string("tag"), "tag", apiClass),
      );
      return Promise.resolve(inventory(created));
    },
  };
}

const volumeActions: Record<string, ApiSpec> = {
  expungeDataVolume: asyncApi("ExpungeDataVolume", ({ state, path }) => {
    state.expungeVolume(path.uuid);
    return Promise.resolve({});
  }),
  recoverDataVolume: asyncApi(
    "RecoverDataVolume",
    ({ state, path }) => Promise.resolve(inventory(state.recoverVolume(path.uuid))),
  ),
  updateVolume: asyncApi("UpdateVolume", ({ state, path, params }) => {
    const volume = state.volume(path.uuid);
    volume.name = params.string("name") ?? volume.name;
    volume.description = params.string("description") ?? volume.description;
    volume.lastOpDate = new Date();
    return Promise.resolve(inventory(volume));
  }, { name: "string", description: "string" }),
  changeVolumeState: asyncApi("ChangeVolumeState", ({ state, path, params }) => {
    const volume = state.volume(path.uuid);
    const event = required(
      params.string("stateEvent"),
      "stateEvent",
      "org.zstack.header.volume.APIChangeVolumeStateMsg",
    );
    if (event !== "enable" && event !== "disable") {
      throw invalidArgument(
        `valid value for field[stateEvent] of message[org.zstack.header.volume.APIChangeVolumeStateMsg] are [enable, disable], but ${event} found`,
      );
    }
    volume.state = event === "enable" ? "Enabled" : "Disabled";
    volume.lastOpDate = new Date();
    return Promise.resolve(inventory(volume));
  }, { stateEvent: "string" }),
};

/** Every route the simulator serves; literal segments win over `{variables}`. */
export const ROUTES: Route[] = [
  // ---- identity --------------------------------------------------------------------
  {
    method: "PUT",
    pattern: "/v1/accounts/login",
    actions: {
      logInByAccount: {
        name: "LogInByAccount",
        kind: "sync",
        authenticated: false,
        fields: {
          accountName: "string",
          password: "string",
          accountType: "string",
          clientInfo: "map",
        },
        run: ({ auth, params }) =>
          inventory(auth.login(params.string("accountName"), params.string("password"))),
      },
    },
  },
  {
    method: "PUT",
    pattern: "/v1/accounts/users/login",
    actions: {
      logInByUser: {
        name: "LogInByUser",
        kind: "sync",
        authenticated: false,
        // Only the admin account exists; there are no IAM users to log in as.
        run: () => {
          throw new ApiError(errorCode("ID.1000", "wrong account name or password"));
        },
      },
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/accounts/sessions/{uuid}",
    api: {
      name: "LogOut",
      kind: "sync",
      authenticated: false,
      run: ({ auth, path }) => {
        auth.logout(path.uuid);
        return {};
      },
    },
  },
  {
    method: "GET",
    pattern: "/v1/accounts/sessions/{uuid}/valid",
    api: {
      name: "ValidateSession",
      kind: "sync",
      authenticated: false,
      run: ({ auth, path }) => ({ valid: auth.isValid(path.uuid) }),
    },
  },
  {
    method: "PUT",
    pattern: "/v1/accounts/sessions/{uuid}/renew",
    actions: {
      renewSession: {
        name: "RenewSession",
        kind: "async",
        authenticated: true,
        fields: { duration: "long" },
        run: ({ auth, path, params }) => {
          const duration = params.number("duration");
          if (duration !== undefined && (duration < 60 || duration > 31536000)) {
            throw invalidArgument(
              `field[duration] of message[org.zstack.header.identity.APIRenewSessionMsg] must be in range of [60, 31536000]`,
            );
          }
          return Promise.resolve(inventory(auth.renew(path.uuid, duration)));
        },
      },
    },
  },
  {
    method: "POST",
    pattern: "/v1/accesskeys",
    api: {
      name: "CreateAccessKey",
      kind: "async",
      authenticated: true,
      fields: {
        accountUuid: "string",
        userUuid: "string",
        description: "string",
        AccessKeyID: "string",
        AccessKeySecret: "string",
      },
      run: ({ auth, params }) =>
        Promise.resolve(inventory(auth.createAccessKey({
          AccessKeyID: params.string("AccessKeyID"),
          AccessKeySecret: params.string("AccessKeySecret"),
          description: params.string("description"),
        }))),
    },
  },
  ...queryRoutes("QueryAccessKey", "/accesskeys"),

  // ---- infrastructure --------------------------------------------------------------
  ...queryRoutes("QueryZone", "/zones"),
  ...queryRoutes("QueryCluster", "/clusters"),
  {
    method: "GET",
    pattern: "/v1/hosts/capacities/cpu-memory",
    api: { name: "GetCpuMemoryCapacity", kind: "sync", authenticated: true, run: hostCapacities },
  },
  ...queryRoutes("QueryHost", "/hosts"),
  ...queryRoutes("QueryImage", "/images"),
  {
    method: "POST",
    pattern: "/v1/images",
    api: {
      name: "AddImage",
      kind: "async",
      authenticated: true,
      timeoutMs: 72 * HOUR,
      fields: {
        name: "string",
        url: "string",
        mediaType: "string",
        format: "string",
        platform: "string",
        guestOsType: "string",
        architecture: "string",
        backupStorageUuids: "stringList",
        resourceUuid: "string",
      },
      run: ({ state, params }) => {
        const apiClass = "org.zstack.header.image.APIAddImageMsg";
        const name = required(params.string("name"), "name", apiClass);
        const url = required(params.string("url"), "url", apiClass);
        const uuid = params.string("resourceUuid") ?? newUuid();
        if (state.uuidInUse(uuid)) throw invalidArgument(`resourceUuid[${uuid}] is already in use`);
        return Promise.resolve(inventory(state.addImage({
          uuid,
          name,
          url,
          size: 2 ** 30,
          mediaType: params.string("mediaType") ?? "RootVolumeTemplate",
          format: params.string("format") ?? "qcow2",
          platform: params.string("platform") ?? "Linux",
          guestOsType: params.string("guestOsType"),
          architecture: params.string("architecture") ?? "x86_64",
        })));
      },
    },
  },
  ...queryRoutes("QueryInstanceOffering", "/instance-offerings"),
  {
    method: "POST",
    pattern: "/v1/instance-offerings",
    api: {
      name: "CreateInstanceOffering",
      kind: "async",
      authenticated: true,
      fields: { name: "string", cpuNum: "int", memorySize: "long", resourceUuid: "string" },
      run: ({ state, params }) => {
        const apiClass = "org.zstack.header.configuration.APICreateInstanceOfferingMsg";
        return Promise.resolve(inventory(state.addInstanceOffering({
          uuid: params.string("resourceUuid") ?? newUuid(),
          name: required(params.string("name"), "name", apiClass),
          cpuNum: required(params.number("cpuNum"), "cpuNum", apiClass),
          memorySize: required(params.number("memorySize"), "memorySize", apiClass),
        })));
      },
    },
  },
  ...queryRoutes("QueryDiskOffering", "/disk-offerings"),
  {
    method: "POST",
    pattern: "/v1/disk-offerings",
    api: {
      name: "CreateDiskOffering",
      kind: "async",
      authenticated: true,
      fields: { name: "string", diskSize: "long", resourceUuid: "string" },
      run: ({ state, params }) => {
        const apiClass = "org.zstack.header.configuration.APICreateDiskOfferingMsg";
        return Promise.resolve(inventory(state.addDiskOffering({
          uuid: params.string("resourceUuid") ?? newUuid(),
          name: required(params.string("name"), "name", apiClass),
          diskSize: required(params.number("diskSize"), "diskSize", apiClass),
        })));
      },
    },
  },
  ...queryRoutes("QueryL3Network", "/l3-networks"),
  ...queryRoutes("QueryIpRange", "/l3-networks/ip-ranges"),
  {
    method: "GET",
    pattern: "/v1/l3-networks/ip/free",
    api: { name: "GetFreeIp", kind: "sync", authenticated: true, run: freeIps },
  },
  {
    method: "GET",
    pattern: "/v1/ip-capacity",
    api: { name: "GetIpAddressCapacity", kind: "sync", authenticated: true, run: ipCapacity },
  },
  ...queryRoutes("QueryPrimaryStorage", "/primary-storage"),
  {
    method: "GET",
    pattern: "/v1/primary-storage/capacities",
    api: {
      name: "GetPrimaryStorageCapacity",
      kind: "sync",
      authenticated: true,
      run: ({ state, query }) => {
        const wanted = listParam(query, "primaryStorageUuids");
        const zones = listParam(query, "zoneUuids");
        const list = [...state.primaryStorages.values()].filter((ps) =>
          query.get("all") === "true" || wanted.includes(ps.uuid) || zones.includes(ps.zoneUuid) ||
          listParam(query, "clusterUuids").some((cluster) =>
            ps.attachedClusterUuids.includes(cluster)
          )
        );
        const sum = (pick: (ps: (typeof list)[number]) => number) =>
          list.reduce((t, ps) => t + pick(ps), 0);
        return {
          totalCapacity: sum((ps) => ps.totalCapacity),
          availableCapacity: sum((ps) => ps.availableCapacity),
          totalPhysicalCapacity: sum((ps) => ps.totalPhysicalCapacity),
          availablePhysicalCapacity: sum((ps) => ps.availablePhysicalCapacity),
          success: true,
        };
      },
    },
  },
  ...queryRoutes("QueryBackupStorage", "/backup-storage"),

  // ---- VMs -------------------------------------------------------------------------
  { method: "POST", pattern: "/v1/vm-instances", api: createVm },
  ...queryRoutes("QueryVmInstance", "/vm-instances"),
  ...queryRoutes("QueryVmNic", "/vm-instances/nics"),
  { method: "PUT", pattern: "/v1/vm-instances/{uuid}/actions", actions: vmActions },
  {
    method: "DELETE",
    pattern: "/v1/vm-instances/{uuid}",
    api: asyncApi("DestroyVmInstance", async ({ state, path, query }) => {
      const mode = query.get("deleteMode") ?? "Permissive";
      if (mode !== "Permissive" && mode !== "Enforcing") {
        throw invalidArgument(
          `valid value for field[deleteMode] are [Permissive, Enforcing], but ${mode} found`,
        );
      }
      await state.destroyVm(path.uuid);
      return {};
    }),
  },
  {
    method: "GET",
    pattern: "/v1/vm-instances/{uuid}/migration-target-hosts",
    api: {
      name: "GetVmMigrationCandidateHosts",
      kind: "sync",
      authenticated: true,
      run: ({ state, path }) => {
        const vm = state.vm(path.uuid, "vmInstanceUuid");
        state.checkState(vm, "MigrateVm");
        return { inventories: state.migrationTargets(vm) };
      },
    },
  },
  {
    method: "GET",
    pattern: "/v1/vm-instances/{uuid}/console-addresses",
    api: {
      name: "GetVmConsoleAddress",
      kind: "sync",
      authenticated: true,
      run: ({ state, path }) => {
        const vm = state.vm(path.uuid);
        state.checkState(vm, "GetVmConsoleAddress");
        const host = vm.hostUuid ? state.hosts.get(vm.hostUuid) : undefined;
        if (!host) throw operationError(`vm[uuid:${vm.uuid}] has no host`);
        const onHost = [...state.vms.values()].filter((other) => other.hostUuid === host.uuid);
        const port = 5900 + onHost.findIndex((other) => other.uuid === vm.uuid);
        return {
          hostIp: host.managementIp,
          port,
          protocol: "vnc",
          vdiPortInfo: { vncPort: port },
          success: true,
        };
      },
    },
  },

  // ---- volumes and snapshots ---------------------------------------------------------
  {
    method: "POST",
    pattern: "/v1/volumes/data",
    api: {
      name: "CreateDataVolume",
      kind: "async",
      authenticated: true,
      fields: {
        name: "string",
        description: "string",
        diskOfferingUuid: "string",
        diskSize: "long",
        primaryStorageUuid: "string",
        resourceUuid: "string",
      },
      run: ({ state, params, systemTags, userTags }) =>
        Promise.resolve(inventory(state.createDataVolume({
          name: params.string("name"),
          description: params.string("description"),
          diskOfferingUuid: params.string("diskOfferingUuid"),
          diskSize: params.number("diskSize"),
          primaryStorageUuid: params.string("primaryStorageUuid"),
          resourceUuid: params.string("resourceUuid"),
          systemTags,
          userTags,
        }))),
    },
  },
  ...queryRoutes("QueryVolume", "/volumes"),
  {
    method: "POST",
    pattern: "/v1/volumes/{volumeUuid}/vm-instances/{vmInstanceUuid}",
    api: asyncApi(
      "AttachDataVolumeToVm",
      async ({ state, path }) =>
        inventory(await state.attachVolume(path.volumeUuid, path.vmInstanceUuid)),
    ),
  },
  {
    method: "DELETE",
    pattern: "/v1/volumes/{uuid}/vm-instances",
    api: asyncApi(
      "DetachDataVolumeFromVm",
      async ({ state, path, query }) =>
        inventory(await state.detachVolume(path.uuid, query.get("vmUuid") ?? undefined)),
    ),
  },
  {
    method: "DELETE",
    pattern: "/v1/volumes/{uuid}",
    api: asyncApi("DeleteDataVolume", ({ state, path }) => {
      state.deleteVolume(path.uuid);
      return Promise.resolve({});
    }),
  },
  { method: "PUT", pattern: "/v1/volumes/{uuid}/actions", actions: volumeActions },
  {
    method: "POST",
    pattern: "/v1/volumes/{volumeUuid}/volume-snapshots",
    api: asyncApi(
      "CreateVolumeSnapshot",
      async ({ state, path, params }) =>
        inventory(
          await state.createSnapshot(path.volumeUuid, {
            name: params.string("name"),
            description: params.string("description"),
            resourceUuid: params.string("resourceUuid"),
          }),
        ),
      { name: "string", description: "string", resourceUuid: "string" },
      3 * HOUR,
    ),
  },
  ...queryRoutes("QueryVolumeSnapshot", "/volume-snapshots"),
  {
    method: "PUT",
    pattern: "/v1/volume-snapshots/{uuid}/actions",
    actions: {
      revertVolumeFromSnapshot: asyncApi(
        "RevertVolumeFromSnapshot",
        async ({ state, path }) => {
          await state.revertSnapshot(path.uuid);
          return {};
        },
        undefined,
        24 * HOUR,
      ),
      updateVolumeSnapshot: asyncApi(
        "UpdateVolumeSnapshot",
        ({ state, path, params }) =>
          Promise.resolve(inventory(state.updateSnapshot(path.uuid, {
            name: params.string("name"),
            description: params.string("description"),
          }))),
        { name: "string", description: "string" },
      ),
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/volume-snapshots/{uuid}",
    api: asyncApi(
      "DeleteVolumeSnapshot",
      ({ state, path }) => {
        state.deleteSnapshot(path.uuid);
        return Promise.resolve({});
      },
      undefined,
      6 * HOUR,
    ),
  },

  // ---- tags ------------------------------------------------------------------------
  { method: "POST", pattern: "/v1/user-tags", api: createTagApi("User") },
  { method: "POST", pattern: "/v1/system-tags", api: createTagApi("System") },
  ...queryRoutes("QueryUserTag", "/user-tags"),
  ...queryRoutes("QuerySystemTag", "/system-tags"),
  {
    method: "PUT",
    pattern: "/v1/system-tags/{uuid}/actions",
    actions: {
      updateSystemTag: asyncApi(
        "UpdateSystemTag",
        ({ state, path, params }) =>
          Promise.resolve(inventory(state.updateSystemTag(
            path.uuid,
            required(params.string("tag"), "tag", "org.zstack.header.tag.APIUpdateSystemTagMsg"),
          ))),
        { tag: "string" },
      ),
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/tags/{uuid}",
    api: asyncApi("DeleteTag", ({ state, path }) => {
      state.deleteTag(path.uuid);
      return Promise.resolve({});
    }),
  },
];

/** A route that matched a request, with its path variables. */
export interface RouteMatch {
  route: Route;
  path: Record<string, string>;
}

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const have = path.split("/");
  if (want.length !== have.length) return undefined;
  const variables: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment.startsWith("{")) {
      if (!have[i]) return undefined;
      variables[segment.slice(1, -1)] = decodeURIComponent(have[i]);
    } else if (segment !== have[i]) {
      return undefined;
    }
  }
  return variables;
}

function literalSegments(pattern: string): number {
  return pattern.split("/").filter((segment) => !segment.startsWith("{")).length;
}

/** Finds the route for `method` and `path` (below the context path); literal segments win. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  let best: RouteMatch | undefined;
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const variables = matchPattern(route.pattern, path);
    if (!variables) continue;
    if (!best || literalSegments(route.pattern) > literalSegments(best.route.pattern)) {
      best = { route, path: variables };
    }
  }
  return best;
}

/** The query collection behind a query API. */
export function collectionOf(api: ApiSpec): (typeof COLLECTIONS)[string] | undefined {
  return api.collection === undefined ? undefined : COLLECTIONS[api.collection];
}
