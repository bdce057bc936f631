/**
 * Where one OpenStack test stack lives: its folders, the loopback ports of its daemons,
 * and the fixed credentials of its users. Everything the other modules write or start is
 * derived from one `StackLayout`, so that two stacks on one machine never share a file
 * or a port.
 *
 * @module
 */

/** The loopback ports of one stack. */
export interface StackPorts {
  keystone: number;
  placement: number;
  glance: number;
  neutron: number;
  nova: number;
  rabbit: number;
  rabbitDist: number;
  epmd: number;
  /** The supervisor's control API (`/status`, `/services/<name>/stop|start`). */
  control: number;
}

/** The names of {@linkcode StackPorts}, in a fixed order. */
export const PORT_NAMES = [
  "keystone",
  "placement",
  "glance",
  "neutron",
  "nova",
  "rabbit",
  "rabbitDist",
  "epmd",
  "control",
] as const satisfies ReadonlyArray<keyof StackPorts>;

/** Picks a distinct port for each of {@linkcode PORT_NAMES} with `pick(count)`. */
export function assignPorts(pick: (count: number) => number[]): StackPorts {
  const ports = pick(PORT_NAMES.length);
  return Object.fromEntries(
    PORT_NAMES.map((name, index) => [name, ports[index]]),
  ) as unknown as StackPorts;
}

/** One stack: its folder and ports. */
export interface StackLayout {
  /** The stack's folder; every file of it is below. */
  dir: string;
  ports: StackPorts;
  /** Debug logging in every daemon. */
  debug?: boolean;
}

/** The region every endpoint is registered in. */
export const REGION = "RegionOne";

/** Password of every database user and service user of a test stack (loopback only). */
export const SERVICE_PASSWORD = "vkedge-stack";

/** The admin user of the stack (project `admin`, role `admin`). */
export const ADMIN = { user: "admin", password: "vkedge-admin", project: "admin" } as const;

/** A non-admin user (project `vkedge`, role `member`), for what policy forbids it. */
export const MEMBER = { user: "vkedge", password: "vkedge-member", project: "vkedge" } as const;

/** The compute hosts of a stack, each one `nova-compute` with `fake.FakeDriver`. */
export const COMPUTE_HOSTS = ["compute-1", "compute-2"] as const;

/** The image servers boot from: a 1 MiB raw disk of zeros (FakeDriver never reads it). */
export const IMAGE = { name: "tiny", sizeBytes: 1024 * 1024 } as const;

/** The flavors of a stack: name, vCPUs, memory (MiB), root disk (GiB). */
export const FLAVORS: ReadonlyArray<{ name: string; vcpus: number; ram: number; disk: number }> = [
  { name: "m1.nano", vcpus: 1, ram: 256, disk: 1 },
  { name: "m1.tiny", vcpus: 1, ram: 512, disk: 1 },
  { name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
  { name: "m1.medium", vcpus: 2, ram: 4096, disk: 40 },
  { name: "m1.large", vcpus: 4, ram: 8192, disk: 80 },
];

/** The Neutron networks of a stack (type `local`, in project admin, shared). */
export const NETWORKS: ReadonlyArray<{ name: string; cidr: string; gateway: string }> = [
  { name: "private", cidr: "10.20.0.0/22", gateway: "10.20.0.1" },
  { name: "private-2", cidr: "10.21.0.0/24", gateway: "10.21.0.1" },
];

/** The Nova quota of every project (config defaults): instances, cores, RAM in MiB. */
export const QUOTA = { instances: 100, cores: 200, ram: 204_800 } as const;

/** The files and folders of a stack. */
export interface StackPaths {
  etc: string;
  logs: string;
  run: string;
  mysqlData: string;
  mysqlSocket: string;
  rabbitBase: string;
  fernetKeys: string;
  credentialKeys: string;
  glanceImages: string;
  novaState: string;
  neutronState: string;
  locks: string;
  stackFile: string;
}

/** Paths of a stack's files. */
export function paths(layout: StackLayout): StackPaths {
  const { dir } = layout;
  return {
    etc: `${dir}/etc`,
    logs: `${dir}/logs`,
    run: `${dir}/run`,
    mysqlData: `${dir}/mysql`,
    mysqlSocket: `${dir}/run/mysql.sock`,
    rabbitBase: `${dir}/rabbitmq`,
    fernetKeys: `${dir}/keystone/fernet-keys`,
    credentialKeys: `${dir}/keystone/credential-keys`,
    glanceImages: `${dir}/glance/images`,
    novaState: `${dir}/nova`,
    neutronState: `${dir}/neutron`,
    locks: `${dir}/run/locks`,
    stackFile: `${dir}/stack.json`,
  };
}

/** The SQLAlchemy URL of database `name` over the stack's MariaDB socket. */
export function databaseUrl(layout: StackLayout, name: string): string {
  const socket = paths(layout).mysqlSocket;
  return `mysql+pymysql://openstack:${SERVICE_PASSWORD}@localhost/${name}?unix_socket=${socket}&charset=utf8`;
}

/** The message bus URL. */
export function transportUrl(layout: StackLayout): string {
  return `rabbit://guest:guest@127.0.0.1:${layout.ports.rabbit}/`;
}

/** Base URL of a service on its port. */
export function serviceUrl(layout: StackLayout, service: keyof StackPorts): string {
  return `http://127.0.0.1:${layout.ports[service]}`;
}

/** The public endpoint of each catalog entry, as registered in Keystone. */
export function catalogEndpoints(layout: StackLayout): Record<string, string> {
  return {
    identity: `${serviceUrl(layout, "keystone")}/v3`,
    placement: serviceUrl(layout, "placement"),
    image: serviceUrl(layout, "glance"),
    network: serviceUrl(layout, "neutron"),
    compute: `${serviceUrl(layout, "nova")}/v2.1`,
  };
}

/** The databases of a stack. */
export const DATABASES = [
  "keystone",
  "placement",
  "glance",
  "neutron",
  "nova_api",
  "nova",
  "nova_cell0",
] as const;
