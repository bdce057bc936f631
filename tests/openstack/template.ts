/**
 * The template every stack starts from: a MariaDB data folder with every database
 * migrated and Keystone bootstrapped (users, projects, the catalog), Nova's cells
 * mapped, the flavors, the image (and its file) and the networks made, plus Keystone's
 * keys. Building it takes a minute or two (most of it database migrations), so it is
 * built once per machine into `~/.cache/vkedge/openstack/template-<key>` (the key hashes
 * the installed package versions and the sources of this folder) and each stack copies
 * it, then rewrites the few values that name its own ports and folder.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { authenticate, call } from "./admin_api.ts";
import { configFiles } from "./config_files.ts";
import {
  ADMIN,
  assignPorts,
  catalogEndpoints,
  DATABASES,
  databaseUrl,
  FLAVORS,
  IMAGE,
  MEMBER,
  NETWORKS,
  paths,
  REGION,
  SERVICE_PASSWORD,
  serviceUrl,
  type StackLayout,
  transportUrl,
} from "./layout.ts";
import { freePorts, run, spawnLogged, stopGroup, until } from "./process.ts";
import { glance, keystone, mariadb, neutron, novaApi, type ServiceSpec, sql } from "./services.ts";

/** The Debian packages the stack needs. */
export const PACKAGES = [
  "nova-api",
  "nova-conductor",
  "nova-scheduler",
  "placement-api",
  "keystone",
  "glance-api",
  "neutron-server",
  "rabbitmq-server",
  "mariadb-server",
  "mariadb-client",
  "uwsgi-core",
  "uwsgi-plugin-python3",
  "python3-pymysql",
] as const;

/** What a template remembers of the stack it was built as, to rewrite for a new one. */
export interface TemplateInfo {
  /** The folder it was built in (the paths its databases name). */
  builtIn: string;
  /** Its ports then. */
  ports: StackLayout["ports"];
  /** Seconds the build took. */
  buildSeconds: number;
}

const here = fileURLToPath(new URL(".", import.meta.url));

/** The cache root of templates. */
export function cacheRoot(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/vkedge/openstack`;
}

/** Which packages of {@linkcode PACKAGES} are not installed. */
export async function missingPackages(): Promise<string[]> {
  const output = await run("dpkg-query", ["-W", "-f", "${Package} ${db:Status-Status}\n"])
    .catch(() => "");
  const installed = new Set(
    output.split("\n").filter((line) => line.endsWith(" installed")).map((line) =>
      line.split(" ")[0]
    ),
  );
  return PACKAGES.filter((name) => !installed.has(name));
}

/**
 * Version of how templates are built: raise it when `buildTemplate` makes something else
 * (the key also changes with the package versions and with what the databases are built
 * from: the users, flavors, image and networks, and the configuration of the services
 * that write them).
 */
export const TEMPLATE_VERSION = 1;

/** The template key: what a template's content depends on, hashed. */
export async function templateKey(): Promise<string> {
  const versions = await run("dpkg-query", ["-W", "-f", "${Package}=${Version}\n", ...PACKAGES]);
  const fixed: StackLayout = {
    dir: "/template",
    ports: assignPorts((count) => Array.from({ length: count }, (_, i) => 10_000 + i)),
  };
  const files = configFiles(fixed);
  const text = JSON.stringify({
    version: TEMPLATE_VERSION,
    versions,
    built: [ADMIN, MEMBER, SERVICE_PASSWORD, FLAVORS, IMAGE, NETWORKS, REGION],
    configs: [
      "my.cnf",
      "keystone.conf",
      "placement.conf",
      "glance-api.conf",
      "neutron.conf",
      "ml2_conf.ini",
    ]
      .map((name) => files[name]),
    ml2: await Deno.readTextFile(`${here}/fake_ml2/vkedge_neutron_fake.py`),
  });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** The folder of the current template (which may not exist yet). */
export async function templateDir(): Promise<string> {
  return `${cacheRoot()}/template-${await templateKey()}`;
}

/** Makes the folders of a stack and writes its configuration files. */
export async function writeStackFiles(layout: StackLayout): Promise<void> {
  const p = paths(layout);
  for (
    const dir of [
      p.etc,
      p.logs,
      p.run,
      p.locks,
      p.rabbitBase,
      `${p.rabbitBase}/mnesia`,
      p.novaState,
      p.neutronState,
      p.glanceImages,
      `${p.glanceImages}/staging`,
      `${p.glanceImages}/tasks`,
    ]
  ) {
    await Deno.mkdir(dir, { recursive: true });
  }
  for (const [name, text] of Object.entries(configFiles(layout))) {
    await Deno.writeTextFile(`${p.etc}/${name}`, text);
  }
  await Deno.writeTextFile(`${p.rabbitBase}/enabled_plugins`, "[].\n");
  await Deno.writeTextFile(
    `${p.rabbitBase}/rabbitmq.conf`,
    "loopback_users.guest = false\nlisteners.tcp.default = 127.0.0.1:" +
      `${layout.ports.rabbit}\nlog.console = false\nlog.file.level = warning\n`,
  );
}

/** Starts `spec` with its log in the stack's log folder; resolves once it serves. */
export async function startService(
  layout: StackLayout,
  spec: ServiceSpec,
  timeoutMs = 120_000,
): Promise<Deno.ChildProcess> {
  const logFile = `${paths(layout).logs}/${spec.name}.out`;
  const child = spawnLogged({ command: spec.command, args: spec.args, env: spec.env, logFile });
  let exited: number | undefined;
  child.status.then((status) => exited = status.code);
  await until(`${spec.name} (log ${logFile})`, () => spec.ready(), {
    timeoutMs,
    failed: () => exited === undefined ? undefined : `exited with status ${exited}`,
  });
  return child;
}

function manage(command: string, args: string[], what: string): Promise<string> {
  return run(command, args, { what });
}

/** Creates the databases and runs every service's migrations, in parallel where they may. */
async function migrate(layout: StackLayout): Promise<void> {
  const etc = paths(layout).etc;
  await sql(
    layout,
    [
      ...DATABASES.map((name) => `CREATE DATABASE ${name} CHARACTER SET utf8mb4;`),
      `CREATE USER 'openstack'@'localhost' IDENTIFIED BY '${SERVICE_PASSWORD}';`,
      `GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'localhost';`,
      "FLUSH PRIVILEGES;",
    ].join("\n"),
  );
  const keystoneConf = ["--config-file", `${etc}/keystone.conf`];
  const nova = ["--config-file", `${etc}/nova.conf`];
  await Promise.all([
    (async () => {
      await manage("keystone-manage", [...keystoneConf, "db_sync"], "keystone-manage db_sync");
      await manage("keystone-manage", [
        ...keystoneConf,
        "fernet_setup",
        "--keystone-user",
        "root",
        "--keystone-group",
        "root",
      ], "keystone-manage fernet_setup");
      await manage("keystone-manage", [
        ...keystoneConf,
        "credential_setup",
        "--keystone-user",
        "root",
        "--keystone-group",
        "root",
      ], "keystone-manage credential_setup");
      const identity = catalogEndpoints(layout).identity;
      await manage("keystone-manage", [
        ...keystoneConf,
        "bootstrap",
        "--bootstrap-password",
        ADMIN.password,
        "--bootstrap-admin-url",
        identity,
        "--bootstrap-internal-url",
        identity,
        "--bootstrap-public-url",
        identity,
        "--bootstrap-region-id",
        REGION,
      ], "keystone-manage bootstrap");
    })(),
    manage("glance-manage", ["--config-file", `${etc}/glance-api.conf`, "db_sync"], "glance db"),
    manage(
      "placement-manage",
      ["--config-file", `${etc}/placement.conf`, "db", "sync"],
      "placement db",
    ),
    manage("neutron-db-manage", [
      "--config-file",
      `${etc}/neutron.conf`,
      "--config-file",
      `${etc}/ml2_conf.ini`,
      "upgrade",
      "heads",
    ], "neutron-db-manage upgrade heads"),
    (async () => {
      await manage("nova-manage", [...nova, "api_db", "sync"], "nova-manage api_db sync");
      await manage("nova-manage", [
        ...nova,
        "cell_v2",
        "map_cell0",
        "--database_connection",
        databaseUrl(layout, "nova_cell0"),
      ], "nova-manage cell_v2 map_cell0");
      await manage("nova-manage", [
        ...nova,
        "cell_v2",
        "create_cell",
        "--name",
        "cell1",
        "--transport-url",
        transportUrl(layout),
        "--database_connection",
        databaseUrl(layout, "nova"),
      ], "nova-manage cell_v2 create_cell");
      await manage("nova-manage", [...nova, "db", "sync"], "nova-manage db sync");
    })(),
  ]);
}

/** Registers the service users, the catalog and the non-admin user and project. */
async function registerCatalog(layout: StackLayout): Promise<void> {
  const identity = catalogEndpoints(layout).identity;
  const session = await authenticate(identity, ADMIN);
  const post = <T>(path: string, body: unknown) =>
    call<T>(session, "POST", `${identity}${path}`, { body });
  const put = (path: string) => call(session, "PUT", `${identity}${path}`, { expect: [204] });
  const roles = (await call<{ roles: { id: string; name: string }[] }>(
    session,
    "GET",
    `${identity}/roles`,
  )).roles;
  const role = (name: string) => {
    const found = roles.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`keystone has no role "${name}"`);
    return found.id;
  };
  const service = await post<{ project: { id: string } }>("/projects", {
    project: { name: "service", domain_id: "default" },
  });
  // Nova sends service tokens with its requests (Debian's Zed always does, since the fix of
  // OSSA-2023-003), and the services accept them only from users with role "service".
  const serviceRole = await post<{ role: { id: string } }>("/roles", { role: { name: "service" } });
  for (const name of ["nova", "neutron", "glance", "placement"]) {
    const user = await post<{ user: { id: string } }>("/users", {
      user: { name, password: SERVICE_PASSWORD, domain_id: "default" },
    });
    for (const id of [role("admin"), serviceRole.role.id]) {
      await put(`/projects/${service.project.id}/users/${user.user.id}/roles/${id}`);
    }
  }
  const endpoints = catalogEndpoints(layout);
  const types: Record<string, string> = {
    compute: "nova",
    image: "glance",
    network: "neutron",
    placement: "placement",
  };
  for (const [type, name] of Object.entries(types)) {
    const created = await post<{ service: { id: string } }>("/services", {
      service: { type, name, enabled: true },
    });
    for (const face of ["public", "internal", "admin"]) {
      await post("/endpoints", {
        endpoint: {
          service_id: created.service.id,
          interface: face,
          url: endpoints[type],
          region_id: REGION,
        },
      });
    }
  }
  const project = await post<{ project: { id: string } }>("/projects", {
    project: { name: MEMBER.project, domain_id: "default" },
  });
  const member = await post<{ user: { id: string } }>("/users", {
    user: { name: MEMBER.user, password: MEMBER.password, domain_id: "default" },
  });
  await put(`/projects/${project.project.id}/users/${member.user.id}/roles/${role("member")}`);
}

/** Makes the flavors, the image and the networks, as the admin. */
async function seedResources(layout: StackLayout): Promise<void> {
  const session = await authenticate(catalogEndpoints(layout).identity, ADMIN);
  const compute = serviceUrl(layout, "nova") + "/v2.1";
  for (const flavor of FLAVORS) {
    await call(session, "POST", `${compute}/flavors`, {
      body: { flavor: { ...flavor, "os-flavor-access:is_public": true } },
    });
  }
  const image = serviceUrl(layout, "glance");
  const created = await call<{ id: string }>(session, "POST", `${image}/v2/images`, {
    body: {
      name: IMAGE.name,
      disk_format: "raw",
      container_format: "bare",
      visibility: "public",
      min_disk: 0,
      min_ram: 0,
    },
  });
  await call(session, "PUT", `${image}/v2/images/${created.id}/file`, {
    raw: new Uint8Array(IMAGE.sizeBytes),
    expect: [204],
  });
  const network = serviceUrl(layout, "neutron");
  for (const net of NETWORKS) {
    const made = await call<{ network: { id: string } }>(
      session,
      "POST",
      `${network}/v2.0/networks`,
      { body: { network: { name: net.name, shared: true, "provider:network_type": "local" } } },
    );
    await call(session, "POST", `${network}/v2.0/subnets`, {
      body: {
        subnet: {
          network_id: made.network.id,
          name: `${net.name}-subnet`,
          ip_version: 4,
          cidr: net.cidr,
          gateway_ip: net.gateway,
          enable_dhcp: false,
        },
      },
    });
  }
}

/**
 * Builds a template in `dir` (which must not exist): a stack's databases and keys as
 * described in the module documentation. The daemons it starts are stopped again, and
 * MariaDB shut down cleanly, before it returns.
 */
export async function buildTemplate(
  dir: string,
  log: (text: string) => void,
): Promise<TemplateInfo> {
  const started = Date.now();
  const step = (what: string) =>
    log(`  ${what} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const layout: StackLayout = {
    dir,
    ports: assignPorts(freePorts),
  };
  await writeStackFiles(layout);
  const p = paths(layout);
  await run("mariadb-install-db", [
    `--defaults-file=${p.etc}/my.cnf`,
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
  ], { what: "mariadb-install-db" });
  const children: Deno.ChildProcess[] = [];
  try {
    children.push(await startService(layout, mariadb(layout)));
    step("MariaDB up");
    await migrate(layout);
    step("databases migrated");
    const started = await Promise.all([
      startService(layout, keystone(layout)),
      startService(layout, glance(layout)),
      startService(layout, neutron(layout)),
      startService(layout, novaApi(layout)),
    ]);
    children.push(...started);
    step("Keystone, Glance, Neutron and Nova's API up");
    await registerCatalog(layout);
    await seedResources(layout);
    step("catalog, flavors, image and networks made");
  } finally {
    for (const child of children.reverse()) await stopGroup(child.pid, 30_000);
  }
  const info: TemplateInfo = {
    builtIn: dir,
    ports: layout.ports,
    buildSeconds: Math.round((Date.now() - started) / 1000),
  };
  await Deno.writeTextFile(`${dir}/template.json`, JSON.stringify(info, null, 2));
  return info;
}

/** A built template: its folder and what it remembers. */
export interface Template {
  dir: string;
  info: TemplateInfo;
}

async function readTemplate(dir: string): Promise<Template | undefined> {
  try {
    const info = JSON.parse(await Deno.readTextFile(`${dir}/template.json`)) as TemplateInfo;
    return { dir, info };
  } catch {
    return undefined;
  }
}

/**
 * The current template, built first when it is missing (one builder at a time per
 * machine, by a lock file; a half-built one is never used).
 */
export async function ensureTemplate(log: (text: string) => void): Promise<Template> {
  const dir = await templateDir();
  const ready = await readTemplate(dir);
  if (ready !== undefined) return ready;
  await Deno.mkdir(cacheRoot(), { recursive: true });
  const lock = `${dir}.lock`;
  const lockFile = await Deno.open(lock, { create: true, write: true });
  try {
    await lockFile.lock(true);
    const builtMeanwhile = await readTemplate(dir);
    if (builtMeanwhile !== undefined) return builtMeanwhile;
    const building = `${dir}.building-${Deno.pid}`;
    await Deno.remove(building, { recursive: true }).catch(() => undefined);
    log(`building the OpenStack stack template in ${building} (once per machine, ~1-2 min)`);
    const info = await buildTemplate(building, log);
    // Logs and sockets of the build are not part of the template.
    for (const part of ["logs", "run"]) {
      await Deno.remove(`${building}/${part}`, { recursive: true }).catch(() => undefined);
    }
    await Deno.rename(building, dir);
    log(`template built in ${info.buildSeconds} s: ${dir}`);
    return { dir, info };
  } finally {
    await lockFile.unlock().catch(() => undefined);
    lockFile.close();
  }
}
