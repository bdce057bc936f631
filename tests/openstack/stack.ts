/**
 * One running OpenStack test stack: copied from the template, rewritten for its own
 * ports and folder, every daemon started (MariaDB and RabbitMQ first, then Keystone,
 * Placement, Glance, Neutron and Nova's API, conductor and scheduler together, then one
 * nova-compute per compute host), and checked by booting and deleting one server before
 * it is declared ready in `stack.json`. The supervisor that runs it answers a small
 * control API (status, stop and start one service) and stops everything on SIGTERM,
 * SIGINT, or when the process it was started for exits.
 *
 * @module
 */

import { authenticate, call, COMPUTE_VERSION, listServers } from "./admin_api.ts";
import { ensureTemplate, startService, type TemplateInfo, writeStackFiles } from "./template.ts";
import {
  ADMIN,
  assignPorts,
  catalogEndpoints,
  COMPUTE_HOSTS,
  IMAGE,
  MEMBER,
  NETWORKS,
  paths,
  REGION,
  type StackLayout,
} from "./layout.ts";
import { alive, freePorts, run, stopGroup, until } from "./process.ts";
import {
  allServices,
  epmd,
  extraNovaApi,
  glance,
  keystone,
  mariadb,
  neutron,
  novaApi,
  novaCompute,
  novaConductor,
  novaScheduler,
  placement,
  rabbitmq,
  type ServiceSpec,
  sql,
} from "./services.ts";

/** What `stack.json` says about a stack, for tests and tools. */
export interface StackInfo {
  /** `starting`, `ready`, `failed` or `stopped`. */
  state: "starting" | "ready" | "failed" | "stopped";
  /** The supervisor's pid. */
  pid: number;
  dir: string;
  ports: StackLayout["ports"];
  /** Keystone v3 URL. */
  authUrl: string;
  region: string;
  /** Public endpoints by service type. */
  endpoints: Record<string, string>;
  admin: typeof ADMIN;
  member: typeof MEMBER;
  /** Compute host names. */
  hosts: readonly string[];
  /** The image to boot and the networks. */
  image: string;
  networks: string[];
  /** Process group of each daemon. */
  services: Record<string, number>;
  /** Seconds from the start of `up` to ready. */
  startSeconds?: number;
  /** Why it failed. */
  error?: string;
  /** The control API. */
  controlUrl: string;
}

/** Options of {@linkcode runStack}. */
export interface RunStackOptions {
  /** The stack's folder (made; must not hold a running stack). */
  dir: string;
  /** Stop when this process is gone (checked every second). */
  untilPid?: number;
  /** Keep the logs and configuration when the stack stops (for a post-mortem); the data goes. */
  keep?: boolean;
  /** On a failure, keep the daemons running until told to stop (to look at them). */
  hold?: boolean;
  /** Progress lines. */
  log?: (text: string) => void;
  /** Called once the stack is ready. */
  onReady?: (info: StackInfo) => void;
}

async function writeInfo(layout: StackLayout, info: StackInfo): Promise<void> {
  const file = paths(layout).stackFile;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(info, null, 2));
  await Deno.rename(`${file}.tmp`, file);
}

/** Copies the template's data (databases, keys, image files) into the stack's folder. */
async function copyTemplate(template: string, layout: StackLayout): Promise<void> {
  for (const part of ["mysql", "keystone", "glance"]) {
    await run("cp", ["-a", "--reflink=auto", `${template}/${part}`, `${layout.dir}/`]);
  }
}

function sqlText(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** Rewrites what names the template's ports and folder: endpoints, cells, image files. */
async function rewriteTemplate(info: TemplateInfo, layout: StackLayout): Promise<void> {
  const services = ["keystone", "placement", "glance", "neutron", "nova", "rabbit"] as const;
  const rewritten = (column: string) => {
    let expression = `REPLACE(${column}, ${sqlText(info.builtIn)}, ${sqlText(layout.dir)})`;
    // Old ports become placeholders first, so that a new port equal to another service's
    // old one is not rewritten twice; a port ends at a word boundary (:3456 ≠ :34567).
    for (const service of services) {
      expression = `REGEXP_REPLACE(${expression}, ${
        sqlText(`127\\.0\\.0\\.1:${info.ports[service]}\\b`)
      }, ${sqlText(`127.0.0.1:@${service}@`)})`;
    }
    for (const service of services) {
      expression = `REPLACE(${expression}, ${sqlText(`:@${service}@`)}, ${
        sqlText(`:${layout.ports[service]}`)
      })`;
    }
    return expression;
  };
  await sql(
    layout,
    [
      `UPDATE keystone.endpoint SET url = ${rewritten("url")};`,
      `UPDATE nova_api.cell_mappings SET transport_url = ${rewritten("transport_url")},` +
      ` database_connection = ${rewritten("database_connection")};`,
      `UPDATE glance.image_locations SET value = ${rewritten("value")};`,
    ].join("\n"),
  );
}

/**
 * Stops every running service at once: the stack's data is thrown away, so nothing
 * needs a clean shutdown, and a daemon that ignores SIGTERM gets SIGKILL after 5 s.
 */
async function stopAll(running: Map<string, Deno.ChildProcess>): Promise<void> {
  await Promise.all([...running.values()].map((child) => stopGroup(child.pid, 5_000)));
  running.clear();
}

/**
 * Makes every token issued so far invalid, as an expiry would: Keystone's fernet keys are
 * rotated until the keys that signed them are gone (`max_active_keys` rotations). Once
 * the caches forget them (Keystone's and the services', 10 s each), every client of the
 * stack, its own services included, gets a 401 for a request with an old token.
 */
export async function invalidateTokens(layout: StackLayout): Promise<void> {
  for (let rotation = 0; rotation < 3; rotation++) {
    await run("keystone-manage", [
      "--config-file",
      `${paths(layout).etc}/keystone.conf`,
      "fernet_rotate",
      "--keystone-user",
      "root",
      "--keystone-group",
      "root",
    ], { what: "keystone-manage fernet_rotate" });
  }
}

/**
 * Waits until Nova lists every compute host as an up, enabled service and a hypervisor,
 * and the scheduler mapped them to the cell, by booting one server on each and deleting
 * them again.
 */
async function checkBoot(layout: StackLayout, log: (text: string) => void): Promise<void> {
  const began = Date.now();
  const at = () => `${((Date.now() - began) / 1000).toFixed(1)} s`;
  const session = await authenticate(catalogEndpoints(layout).identity, ADMIN);
  const compute = session.endpoints.compute;
  await call(session, "GET", `${session.endpoints.network}/v2.0/networks`);
  await until("nova-compute services up", async () => {
    const reply = await call<{ services: { binary: string; state: string; status: string }[] }>(
      session,
      "GET",
      `${compute}/os-services?binary=nova-compute`,
    );
    return reply.services.filter((s) => s.state === "up" && s.status === "enabled").length ===
      COMPUTE_HOSTS.length;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  log(`  compute services up after ${at()} of checks`);
  await until("hypervisors listed", async () => {
    const reply = await call<{ hypervisors: { state: string }[] }>(
      session,
      "GET",
      `${compute}/os-hypervisors`,
    );
    return reply.hypervisors.filter((h) => h.state === "up").length === COMPUTE_HOSTS.length;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  log(`  hypervisors up after ${at()} of checks`);
  const images = await call<{ images: { id: string }[] }>(
    session,
    "GET",
    `${session.endpoints.image}/v2/images?name=${IMAGE.name}`,
  );
  const flavors = await call<{ flavors: { id: string; name: string }[] }>(
    session,
    "GET",
    `${compute}/flavors`,
  );
  const flavor = flavors.flavors.find((candidate) => candidate.name === "m1.nano");
  const nets = await call<{ networks: { id: string }[] }>(
    session,
    "GET",
    `${session.endpoints.network}/v2.0/networks?name=${NETWORKS[0].name}`,
  );
  const ids: string[] = [];
  // Until the scheduler mapped the new hosts, a boot ends in ERROR (NoValidHost): retry.
  await Promise.all(COMPUTE_HOSTS.map(async (host) => {
    const deadline = Date.now() + 60_000;
    while (true) {
      const created = await call<{ server: { id: string } }>(
        session,
        "POST",
        `${compute}/servers`,
        {
          headers: COMPUTE_VERSION,
          body: {
            server: {
              name: `vkedge-stack-check-${host}`,
              imageRef: images.images[0].id,
              flavorRef: flavor?.id,
              networks: [{ uuid: nets.networks[0].id }],
              availability_zone: `nova:${host}`,
            },
          },
        },
      );
      const id = created.server.id;
      ids.push(id);
      let status = "BUILD";
      await until(`check server on ${host}`, async () => {
        const server = await call<{ server: { status: string } }>(
          session,
          "GET",
          `${compute}/servers/${id}`,
          { headers: COMPUTE_VERSION },
        );
        status = server.server.status;
        return status === "ACTIVE" || status === "ERROR";
      }, { timeoutMs: 60_000, intervalMs: 250 });
      if (status === "ACTIVE") break;
      if (Date.now() > deadline) throw new Error(`a check server on ${host} ends in ERROR`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    log(`  a server boots on ${host} (${at()} of checks)`);
  }));
  for (const id of ids) {
    await call(session, "DELETE", `${compute}/servers/${id}`, { expect: [204, 404] });
  }
  await until("check servers deleted", async () => {
    const left = await listServers(session);
    return !left.some((server) => ids.includes(server.id));
  }, { timeoutMs: 60_000, intervalMs: 250 });
}

/**
 * Runs a stack in `options.dir` until it is told to stop; resolves once everything is
 * stopped again. `stack.json` in the folder says how far it got.
 */
export async function runStack(options: RunStackOptions): Promise<void> {
  const log = options.log ?? ((text: string) => console.error(text));
  const started = Date.now();
  const layout: StackLayout = {
    dir: options.dir,
    ports: assignPorts(freePorts),
    debug: Deno.env.get("VKEDGE_OPENSTACK_DEBUG") === "1",
  };
  const running = new Map<string, Deno.ChildProcess>();
  const specs = new Map(allServices(layout).map((spec) => [spec.name, spec]));
  const stop = new AbortController();
  const info: StackInfo = {
    state: "starting",
    pid: Deno.pid,
    dir: layout.dir,
    ports: layout.ports,
    authUrl: catalogEndpoints(layout).identity,
    region: REGION,
    endpoints: catalogEndpoints(layout),
    admin: ADMIN,
    member: MEMBER,
    hosts: COMPUTE_HOSTS,
    image: IMAGE.name,
    networks: NETWORKS.map((network) => network.name),
    services: {},
    controlUrl: `http://127.0.0.1:${layout.ports.control}`,
  };
  // Daemons start side by side and each records itself: the writes go one at a time (they
  // share the temporary file), each with what is known when its turn comes.
  let recorded = Promise.resolve();
  const record = () => {
    const write = recorded.then(() => {
      info.services = Object.fromEntries([...running].map(([name, child]) => [name, child.pid]));
      return writeInfo(layout, info);
    });
    recorded = write.catch(() => undefined);
    return write;
  };
  // Every start in flight, so that a failure waits for them before stopping everything.
  const starting: Promise<unknown>[] = [];
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const start = (spec: ServiceSpec): Promise<void> => {
    const done = (async () => {
      if (stop.signal.aborted) throw new Error(`not starting ${spec.name}: the stack stops`);
      const from = elapsed();
      const child = await startService(layout, spec);
      running.set(spec.name, child);
      if (info.state === "starting") {
        log(`  ${spec.name}: started at ${from}, serving at ${elapsed()}`);
      }
      await record();
    })();
    starting.push(done.catch(() => undefined));
    return done;
  };
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  const watcher = options.untilPid === undefined ? undefined : setInterval(() => {
    if (!alive(options.untilPid!)) stop.abort();
  }, 1_000);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: layout.ports.control,
    onListen: () => {},
  }, async (request) => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/status") return Response.json(info);
    if (request.method === "POST" && url.pathname === "/keystone/invalidate-tokens") {
      await invalidateTokens(layout);
      return Response.json({ invalidated: true });
    }
    if (request.method === "POST" && url.pathname === "/extra/nova-api") {
      const [port] = freePorts(1);
      const name = `nova-api-${port}`;
      await Deno.writeTextFile(
        `${paths(layout).etc}/${name}.conf`,
        `[DEFAULT]\nosapi_compute_listen_port = ${port}\n`,
      );
      const spec = extraNovaApi(layout, { name, port });
      specs.set(name, spec);
      await start(spec);
      return Response.json({ name, url: `http://127.0.0.1:${port}/v2.1` });
    }
    const match = /^\/services\/([a-z0-9-]+)\/(stop|start)$/.exec(url.pathname);
    if (request.method !== "POST" || match === null) {
      return new Response("not found", { status: 404 });
    }
    const spec = specs.get(match[1]);
    if (spec === undefined) return new Response(`no service ${match[1]}`, { status: 404 });
    if (match[2] === "stop") {
      const child = running.get(spec.name);
      if (child !== undefined) await stopGroup(child.pid);
      running.delete(spec.name);
      await record();
    } else if (!running.has(spec.name)) {
      await start(spec);
    }
    return Response.json(info);
  });
  try {
    await Deno.mkdir(layout.dir, { recursive: true });
    await writeInfo(layout, info);
    const template = await ensureTemplate(log);
    await copyTemplate(template.dir, layout);
    await writeStackFiles(layout);
    // Each daemon starts as soon as what it needs serves: the APIs need the database,
    // conductor the bus too, the scheduler and the computes Placement (they ask it for
    // its versions at start), the computes the conductor.
    const database = start(mariadb(layout)).then(() => rewriteTemplate(template.info, layout));
    const bus = start(epmd(layout)).then(() => start(rabbitmq(layout)));
    const after = (needs: Promise<unknown>[], spec: ServiceSpec) =>
      Promise.all(needs).then(() => start(spec));
    const keystoneUp = after([database], keystone(layout));
    const placementUp = after([database], placement(layout));
    const apis = [
      keystoneUp,
      placementUp,
      after([database], glance(layout)),
      after([database], neutron(layout)),
      // nova-api connects to the bus on first use; it does not wait for it.
      after([database], novaApi(layout)),
    ];
    // Nova's daemons ask Placement for its versions at start; the bus they wait for
    // themselves (oslo.messaging retries every second), and nova-compute pings the
    // conductor until it answers, so none of them waits for RabbitMQ's slow boot here.
    const conductor = after([keystoneUp, placementUp], novaConductor(layout));
    const scheduler = after([keystoneUp, placementUp], novaScheduler(layout));
    const computes = COMPUTE_HOSTS.map((host) =>
      after([keystoneUp, placementUp], novaCompute(layout, host))
    );
    const everything = Promise.all([database, bus, ...apis, conductor, scheduler, ...computes]);
    everything.catch(() => stop.abort());
    await Promise.all([database, bus]);
    log(`MariaDB and RabbitMQ up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await Promise.all([...apis, conductor, scheduler]);
    log(`APIs up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await everything;
    await checkBoot(layout, log);
    info.state = "ready";
    info.startSeconds = Math.round((Date.now() - started) / 100) / 10;
    await record();
    log(`OpenStack stack ready in ${info.startSeconds} s: ${info.authUrl} (folder ${layout.dir})`);
    options.onReady?.(info);
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      stop.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } catch (error) {
    info.state = "failed";
    info.error = error instanceof Error ? error.message : String(error);
    await record().catch(() => undefined);
    log(`the OpenStack stack failed: ${info.error}`);
    if (options.hold) {
      log("holding the daemons as they are until SIGTERM or SIGINT");
      await new Promise<void>((resolve) => {
        Deno.addSignalListener("SIGINT", () => resolve());
        Deno.addSignalListener("SIGTERM", () => resolve());
      });
    }
    throw error;
  } finally {
    if (watcher !== undefined) clearInterval(watcher);
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    stop.abort();
    for (let settled = 0; settled < starting.length;) {
      const batch = starting.slice(settled);
      await Promise.all(batch);
      settled += batch.length;
    }
    await stopAll(running);
    await server.shutdown();
    info.state = info.state === "failed" ? "failed" : "stopped";
    await record().catch(() => undefined);
    if (!options.keep && info.state !== "failed") {
      await Deno.remove(layout.dir, { recursive: true }).catch(() => undefined);
    } else {
      // The logs (and stack.json) stay for a post-mortem; the data goes.
      for await (const entry of Deno.readDir(layout.dir)) {
        if (entry.name === "logs" || entry.name === "stack.json" || entry.name === "etc") continue;
        await Deno.remove(`${layout.dir}/${entry.name}`, { recursive: true }).catch(() =>
          undefined
        );
      }
    }
  }
}
