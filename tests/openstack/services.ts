/**
 * The daemons of a stack: how each is started (Debian's programs with the stack's own
 * configuration, never the packages' system services) and how to tell that it serves.
 * The HTTP services are probed on their ports; nova-conductor and nova-scheduler, which
 * have none, by the line each logs once it consumes its queue.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { COMPUTE_HOSTS, paths, serviceUrl, type StackLayout } from "./layout.ts";
import { listening, run } from "./process.ts";

/** Folder of the bind-all ML2 driver, put on Neutron's Python path. */
export const fakeMl2Dir: string = fileURLToPath(new URL("./fake_ml2", import.meta.url));

/** Folder of the completed FakeDriver, put on nova-compute's Python path. */
export const fakeNovaDir: string = fileURLToPath(new URL("./fake_nova", import.meta.url));

/** The Python that Debian's OpenStack packages are installed for (not a pyenv shim). */
export const PYTHON = "/usr/bin/python3";

/** One daemon. */
export interface ServiceSpec {
  /** Name, such as `nova-api`; also its log file's. */
  name: string;
  /** Program and arguments. */
  command: string;
  args: string[];
  /** Extra environment. */
  env?: Record<string, string>;
  /** Whether it serves (an HTTP answer, a log line, a socket). */
  ready(): Promise<boolean>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    return false;
  }
}

async function logged(file: string, pattern: RegExp): Promise<boolean> {
  try {
    return pattern.test(await Deno.readTextFile(file));
  } catch {
    return false;
  }
}

/** `mariadb` client arguments for the stack's socket, as root. */
export function mariadbArgs(layout: StackLayout): string[] {
  return [`--socket=${paths(layout).mysqlSocket}`, "--user=root", "--batch", "--skip-column-names"];
}

/** Runs SQL as root over the stack's socket. */
export async function sql(layout: StackLayout, statements: string): Promise<string> {
  return await run("mariadb", mariadbArgs(layout), { stdin: statements, what: "mariadb" });
}

/** MariaDB. */
export function mariadb(layout: StackLayout): ServiceSpec {
  const p = paths(layout);
  return {
    name: "mariadb",
    command: "/usr/sbin/mariadbd",
    args: [`--defaults-file=${p.etc}/my.cnf`],
    ready: async () => {
      try {
        await sql(layout, "SELECT 1;");
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Erlang's port mapper of the stack's RabbitMQ, on a port of its own. */
export function epmd(layout: StackLayout): ServiceSpec {
  return {
    name: "epmd",
    command: "/usr/bin/epmd",
    args: ["-address", "127.0.0.1", "-port", String(layout.ports.epmd)],
    ready: () => listening(layout.ports.epmd),
  };
}

/** The environment that makes RabbitMQ (and `rabbitmqctl`) use the stack's node. */
export function rabbitEnv(layout: StackLayout): Record<string, string> {
  const p = paths(layout);
  return {
    HOME: p.rabbitBase,
    RABBITMQ_NODENAME: "vkedge@localhost",
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(layout.ports.rabbit),
    RABBITMQ_DIST_PORT: String(layout.ports.rabbitDist),
    RABBITMQ_MNESIA_BASE: `${p.rabbitBase}/mnesia`,
    RABBITMQ_LOG_BASE: p.logs,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${p.rabbitBase}/enabled_plugins`,
    RABBITMQ_PLUGINS_EXPAND_DIR: `${p.rabbitBase}/plugins-expand`,
    RABBITMQ_CONFIG_FILE: `${p.rabbitBase}/rabbitmq`,
    RABBITMQ_PID_FILE: `${p.run}/rabbitmq.pid`,
    ERL_EPMD_PORT: String(layout.ports.epmd),
    ERL_EPMD_ADDRESS: "127.0.0.1",
  };
}

/** RabbitMQ. */
export function rabbitmq(layout: StackLayout): ServiceSpec {
  return {
    name: "rabbitmq",
    command: "/usr/lib/rabbitmq/bin/rabbitmq-server",
    args: [],
    env: rabbitEnv(layout),
    ready: () => listening(layout.ports.rabbit),
  };
}

function uwsgi(
  layout: StackLayout,
  name: string,
  env: Record<string, string>,
  probe: string,
): ServiceSpec {
  return {
    name,
    command: "/usr/bin/uwsgi",
    args: ["--ini", `${paths(layout).etc}/${name}-uwsgi.ini`],
    env,
    ready: () => answers(probe),
  };
}

/** Keystone under uwsgi. */
export function keystone(layout: StackLayout): ServiceSpec {
  return uwsgi(layout, "keystone", {
    OS_KEYSTONE_CONFIG_DIR: paths(layout).etc,
    OS_KEYSTONE_CONFIG_FILES: "keystone.conf;keystone-runtime.conf",
  }, `${serviceUrl(layout, "keystone")}/v3`);
}

/** Placement under uwsgi. */
export function placement(layout: StackLayout): ServiceSpec {
  return uwsgi(layout, "placement", {
    OS_PLACEMENT_CONFIG_DIR: paths(layout).etc,
  }, serviceUrl(layout, "placement"));
}

/** Neutron's API (ML2 with the bind-all driver) under uwsgi. */
export function neutron(layout: StackLayout): ServiceSpec {
  return uwsgi(layout, "neutron", {
    OS_NEUTRON_CONFIG_DIR: paths(layout).etc,
    OS_NEUTRON_CONFIG_FILES: "neutron.conf;ml2_conf.ini",
    PYTHONPATH: fakeMl2Dir,
  }, serviceUrl(layout, "neutron"));
}

/** Glance's API. */
export function glance(layout: StackLayout): ServiceSpec {
  return {
    name: "glance-api",
    command: "/usr/bin/glance-api",
    args: ["--config-file", `${paths(layout).etc}/glance-api.conf`],
    ready: () => answers(serviceUrl(layout, "glance")),
  };
}

/** Nova's compute API. */
export function novaApi(layout: StackLayout): ServiceSpec {
  return {
    name: "nova-api",
    command: "/usr/bin/nova-api",
    args: [
      "--config-file",
      `${paths(layout).etc}/nova.conf`,
      "--log-file",
      `${paths(layout).logs}/nova-api.log`,
    ],
    ready: () => answers(serviceUrl(layout, "nova")),
  };
}

/**
 * Another nova-api of the same Nova on `port` (its own `etc/<name>.conf` sets the port),
 * for a test that takes "the" compute API of one agent down without the others noticing.
 */
export function extraNovaApi(
  layout: StackLayout,
  options: { name: string; port: number },
): ServiceSpec {
  const etc = paths(layout).etc;
  return {
    name: options.name,
    command: "/usr/bin/nova-api",
    args: [
      "--config-file",
      `${etc}/nova.conf`,
      "--config-file",
      `${etc}/${options.name}.conf`,
      "--log-file",
      `${paths(layout).logs}/${options.name}.log`,
    ],
    ready: () => answers(`http://127.0.0.1:${options.port}`),
  };
}

function novaDaemon(layout: StackLayout, name: string, topic: string): ServiceSpec {
  const log = `${paths(layout).logs}/${name}.log`;
  return {
    name,
    command: `/usr/bin/${name}`,
    args: ["--config-file", `${paths(layout).etc}/nova.conf`, "--log-file", log],
    ready: () => logged(log, new RegExp(`Starting ${topic} node`)),
  };
}

/** nova-conductor. */
export function novaConductor(layout: StackLayout): ServiceSpec {
  return novaDaemon(layout, "nova-conductor", "conductor");
}

/** nova-scheduler. */
export function novaScheduler(layout: StackLayout): ServiceSpec {
  return novaDaemon(layout, "nova-scheduler", "scheduler");
}

/**
 * The nova-compute of `host` with the completed FakeDriver (`fake_nova/`), started as
 * Debian's `nova-compute` script does (that package is not installed: it pulls libvirt
 * and qemu).
 */
export function novaCompute(layout: StackLayout, host: string): ServiceSpec {
  const log = `${paths(layout).logs}/nova-compute-${host}.log`;
  return {
    name: `nova-compute-${host}`,
    command: PYTHON,
    args: [
      "-c",
      // Nova loads drivers from nova.virt only: the completed FakeDriver is put there.
      [
        "import sys",
        "from nova.cmd.compute import main",
        "import vkedge_nova_fake",
        "sys.modules['nova.virt.vkedge_nova_fake'] = vkedge_nova_fake",
        "sys.exit(main())",
      ].join("\n"),
      "--config-file",
      `${paths(layout).etc}/nova-compute-${host}.conf`,
      "--log-file",
      log,
    ],
    env: { PYTHONPATH: fakeNovaDir },
    ready: () => logged(log, /Starting compute node/),
  };
}

/** Every daemon of a running stack, in start order. */
export function allServices(layout: StackLayout): ServiceSpec[] {
  return [
    mariadb(layout),
    epmd(layout),
    rabbitmq(layout),
    keystone(layout),
    placement(layout),
    glance(layout),
    neutron(layout),
    novaApi(layout),
    novaConductor(layout),
    novaScheduler(layout),
    ...COMPUTE_HOSTS.map((host) => novaCompute(layout, host)),
  ];
}
