/**
 * The configuration files of one OpenStack test stack, as pure functions of its layout:
 * MariaDB's `my.cnf`, the INI files of Keystone, Placement, Glance, Neutron (with ML2) and
 * Nova (one shared by nova-api, nova-conductor and nova-scheduler, one per compute host),
 * and the uwsgi files of the services Debian serves as WSGI applications. Every daemon
 * listens on 127.0.0.1 only and keeps its state below the stack's folder.
 *
 * @module
 */

import {
  ADMIN,
  COMPUTE_HOSTS,
  databaseUrl,
  paths,
  QUOTA,
  REGION,
  SERVICE_PASSWORD,
  serviceUrl,
  type StackLayout,
  transportUrl,
} from "./layout.ts";

/** One INI section: key → value (`undefined` leaves the key out). */
export type IniSection = Record<string, string | number | boolean | undefined>;

/** Renders sections as INI text, in the order given. */
export function ini(sections: Record<string, IniSection>): string {
  const parts: string[] = [];
  for (const [name, section] of Object.entries(sections)) {
    const lines = Object.entries(section)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key} = ${value}`);
    parts.push(`[${name}]\n${lines.join("\n")}\n`);
  }
  return parts.join("\n");
}

/** `[keystone_authtoken]` of a service whose API Keystone guards. */
function authtoken(layout: StackLayout, user: string): IniSection {
  const keystone = serviceUrl(layout, "keystone");
  return {
    www_authenticate_uri: `${keystone}/v3`,
    auth_url: `${keystone}/v3`,
    auth_type: "password",
    project_domain_name: "Default",
    user_domain_name: "Default",
    project_name: "service",
    username: user,
    password: SERVICE_PASSWORD,
    region_name: REGION,
    // Validated tokens are cached in the process; the tests revoke tokens, so keep it short.
    token_cache_time: 10,
    service_token_roles_required: true,
  };
}

/** Credentials of a service user another service calls with (`[placement]`, `[neutron]`, …). */
function serviceUser(layout: StackLayout, user: string): IniSection {
  return {
    auth_url: `${serviceUrl(layout, "keystone")}/v3`,
    auth_type: "password",
    project_domain_name: "Default",
    user_domain_name: "Default",
    project_name: "service",
    username: user,
    password: SERVICE_PASSWORD,
    region_name: REGION,
    valid_interfaces: "public",
  };
}

/** Logging of a daemon into the stack's log folder (debug with `layout.debug`). */
function logging(layout: StackLayout, name: string): IniSection {
  return {
    log_dir: paths(layout).logs,
    log_file: `${name}.log`,
    debug: layout.debug === true,
    use_stderr: false,
  };
}

/** MariaDB on a unix socket only, tuned for a throw-away test database. */
export function myCnf(layout: StackLayout): string {
  const p = paths(layout);
  return ini({
    mysqld: {
      datadir: p.mysqlData,
      socket: p.mysqlSocket,
      "pid-file": `${p.run}/mysqld.pid`,
      "log-error": `${p.logs}/mariadb.log`,
      "skip-networking": true,
      "skip-name-resolve": true,
      user: "root",
      "max_connections": 1000,
      "innodb_buffer_pool_size": "128M",
      "innodb_log_file_size": "32M",
      "innodb_flush_log_at_trx_commit": 0,
      "innodb_doublewrite": 0,
      "sync_binlog": 0,
      "skip-log-bin": true,
      "character-set-server": "utf8mb4",
      "collation-server": "utf8mb4_general_ci",
      "performance_schema": "OFF",
    },
    client: { socket: p.mysqlSocket, user: "root" },
  });
}

/** Keystone: fernet tokens, SQL identity, no cache. */
export function keystoneConf(layout: StackLayout): string {
  const p = paths(layout);
  return ini({
    DEFAULT: { ...logging(layout, "keystone"), public_endpoint: serviceUrl(layout, "keystone") },
    database: { connection: databaseUrl(layout, "keystone"), max_pool_size: 10 },
    token: { provider: "fernet", expiration: 3600 },
    // bcrypt's least cost: every password authentication checks a hash.
    identity: { password_hash_rounds: 4 },
    fernet_tokens: { key_repository: p.fernetKeys, max_active_keys: 3 },
    credential: { key_repository: p.credentialKeys },
    cache: { enabled: false },
    oslo_messaging_notifications: { driver: "noop" },
  });
}

/**
 * What Keystone needs only while it runs, kept out of `keystone.conf` (which the template
 * is keyed by): an in-process cache of token validations, the catalog and assignments.
 * Every service validates every token it sees with Keystone, so without it Keystone is
 * the stack's bottleneck. One process, so that a revocation clears the one cache there is.
 */
export function keystoneRuntimeConf(): string {
  return ini({
    cache: {
      enabled: true,
      backend: "dogpile.cache.memory",
      expiration_time: 600,
    },
    // Validations are reused for 10 s only, so that tokens made invalid (the tests rotate
    // the keys, as an expiry would) are refused soon.
    token: { cache_time: 10 },
  });
}

/** Placement. */
export function placementConf(layout: StackLayout): string {
  return ini({
    DEFAULT: logging(layout, "placement"),
    api: { auth_strategy: "keystone" },
    placement_database: { connection: databaseUrl(layout, "placement"), max_pool_size: 10 },
    keystone_authtoken: authtoken(layout, "placement"),
  });
}

/** Glance with a file store. */
export function glanceConf(layout: StackLayout): string {
  const p = paths(layout);
  return ini({
    DEFAULT: {
      ...logging(layout, "glance-api"),
      bind_host: "127.0.0.1",
      bind_port: layout.ports.glance,
      // The API in the main process, no worker processes (Glance serves few calls here).
      workers: 0,
      enabled_backends: "file:file",
      public_endpoint: serviceUrl(layout, "glance"),
    },
    database: { connection: databaseUrl(layout, "glance"), max_pool_size: 10 },
    keystone_authtoken: authtoken(layout, "glance"),
    paste_deploy: { flavor: "keystone", config_file: "/etc/glance/glance-api-paste.ini" },
    glance_store: { default_backend: "file" },
    file: { filesystem_store_datadir: p.glanceImages },
    os_glance_staging_store: { filesystem_store_datadir: `${p.glanceImages}/staging` },
    os_glance_tasks_store: { filesystem_store_datadir: `${p.glanceImages}/tasks` },
    oslo_messaging_notifications: { driver: "noop" },
    oslo_concurrency: { lock_path: p.locks },
    image_format: { disk_formats: "raw,qcow2" },
  });
}

/**
 * Neutron's API with ML2: `local` and `flat` networks and the stack's bind-all mechanism
 * driver (`fake_ml2/`), so that the ports Nova asks for are bound without any agent.
 */
export function neutronConf(layout: StackLayout): string {
  const p = paths(layout);
  return ini({
    DEFAULT: {
      ...logging(layout, "neutron-api"),
      core_plugin: "ml2",
      service_plugins: "router",
      auth_strategy: "keystone",
      transport_url: transportUrl(layout),
      state_path: p.neutronState,
      api_paste_config: "/etc/neutron/api-paste.ini",
      notify_nova_on_port_status_changes: false,
      notify_nova_on_port_data_changes: false,
      rpc_workers: 0,
      rpc_state_report_workers: 0,
      host: "vkedge-neutron",
      dhcp_agent_notification: false,
    },
    database: { connection: databaseUrl(layout, "neutron"), max_pool_size: 10 },
    keystone_authtoken: authtoken(layout, "neutron"),
    oslo_concurrency: { lock_path: p.locks },
    oslo_messaging_notifications: { driver: "noop" },
    quotas: { quota_port: -1, quota_network: -1, quota_subnet: -1 },
    agent: { report_interval: 0 },
  });
}

/** ML2 of Neutron. */
export function ml2Conf(): string {
  return ini({
    ml2: {
      type_drivers: "local,flat",
      tenant_network_types: "local",
      mechanism_drivers: "vkedge_bind_all",
      extension_drivers: "port_security",
    },
    ml2_type_flat: { flat_networks: "*" },
    securitygroup: { enable_security_group: true, firewall_driver: "noop" },
  });
}

/** What every Nova daemon shares; `host` is the compute host, or the control one. */
function novaSections(layout: StackLayout, host: string, log: string): Record<string, IniSection> {
  const p = paths(layout);
  const keystone = `${serviceUrl(layout, "keystone")}/v3`;
  return {
    DEFAULT: {
      ...logging(layout, log),
      host,
      transport_url: transportUrl(layout),
      // Nova's fake.FakeDriver with snapshot uploads and slow servers (fake_nova/).
      compute_driver: "vkedge_nova_fake.FakeDriver",
      state_path: p.novaState,
      instances_path: `${p.novaState}/instances-${host}`,
      enabled_apis: "osapi_compute",
      osapi_compute_listen: "127.0.0.1",
      osapi_compute_listen_port: layout.ports.nova,
      // Two workers: boots are CPU-bound in nova-api (quota, Neutron and Glance checks).
      osapi_compute_workers: 2,
      my_ip: "127.0.0.1",
      periodic_fuzzy_delay: 0,
      // FakeDriver keeps instances in memory; nothing to wait for after a boot.
      vif_plugging_is_fatal: false,
      vif_plugging_timeout: 0,
      instance_build_timeout: 0,
      heal_instance_info_cache_interval: -1,
      sync_power_state_interval: -1,
    },
    api: { auth_strategy: "keystone" },
    wsgi: { api_paste_config: "/etc/nova/api-paste.ini" },
    api_database: { connection: databaseUrl(layout, "nova_api"), max_pool_size: 10 },
    database: { connection: databaseUrl(layout, "nova"), max_pool_size: 10 },
    keystone_authtoken: authtoken(layout, "nova"),
    service_user: {
      ...serviceUser(layout, "nova"),
      send_service_user_token: true,
    },
    placement: serviceUser(layout, "placement"),
    neutron: { ...serviceUser(layout, "neutron"), service_metadata_proxy: false },
    glance: { region_name: REGION, valid_interfaces: "public" },
    cinder: { os_region_name: REGION },
    keystone: { ...serviceUser(layout, "nova"), auth_url: keystone },
    conductor: { workers: 1 },
    scheduler: { workers: 1, discover_hosts_in_cells_interval: 2 },
    filter_scheduler: {
      // Fake hosts have plenty of room; keep the filters that say something.
      enabled_filters: "ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter",
    },
    quota: {
      instances: QUOTA.instances,
      cores: QUOTA.cores,
      ram: QUOTA.ram,
      metadata_items: 128,
    },
    oslo_concurrency: { lock_path: p.locks },
    oslo_messaging_notifications: { driver: "noop" },
    // Until RabbitMQ serves (it boots last), try again every second, not with back-off.
    oslo_messaging_rabbit: {
      rabbit_retry_interval: 1,
      rabbit_retry_backoff: 0,
      rabbit_interval_max: 1,
    },
    vnc: { enabled: false },
    spice: { enabled: false },
    serial_console: { enabled: false },
    os_vif_ovs: { ovsdb_connection: "" },
    compute: { live_migration_wait_for_vif_plug: false },
  };
}

/** nova.conf of nova-api, nova-conductor and nova-scheduler. */
export function novaConf(layout: StackLayout): string {
  return ini(novaSections(layout, "vkedge-controller", "nova"));
}

/** nova.conf of the `nova-compute` of `host`. */
export function novaComputeConf(layout: StackLayout, host: string): string {
  return ini(novaSections(layout, host, `nova-compute-${host}`));
}

/** The uwsgi file serving a Debian WSGI script on the service's port. */
export function uwsgiIni(
  layout: StackLayout,
  options: { name: string; port: number; script: string; threads?: number; processes?: number },
): string {
  return ini({
    uwsgi: {
      "http-socket": `127.0.0.1:${options.port}`,
      "wsgi-file": options.script,
      plugins: "python3",
      master: true,
      processes: options.processes ?? 1,
      threads: options.threads ?? 4,
      "enable-threads": true,
      "lazy-apps": true,
      "die-on-term": true,
      "buffer-size": 65535,
      // Without it the other services see "Remote end closed connection" on reused sockets.
      "add-header": "Connection: close",
      "http-keepalive": false,
      "socket-timeout": 60,
      "thunder-lock": true,
      pidfile: `${paths(layout).run}/${options.name}.uwsgi.pid`,
      "disable-logging": true,
      logto: `${paths(layout).logs}/${options.name}.uwsgi.log`,
    },
  });
}

/** `clouds.yaml`-style facts the tests read: the admin credentials and where Keystone is. */
export function adminOpenrc(layout: StackLayout): string {
  return [
    `export OS_AUTH_URL=${serviceUrl(layout, "keystone")}/v3`,
    `export OS_USERNAME=${ADMIN.user}`,
    `export OS_PASSWORD=${ADMIN.password}`,
    `export OS_PROJECT_NAME=${ADMIN.project}`,
    "export OS_USER_DOMAIN_NAME=Default",
    "export OS_PROJECT_DOMAIN_NAME=Default",
    `export OS_REGION_NAME=${REGION}`,
    "",
  ].join("\n");
}

/** Every file of the stack's `etc/`, by name. */
export function configFiles(layout: StackLayout): Record<string, string> {
  const files: Record<string, string> = {
    "my.cnf": myCnf(layout),
    "keystone.conf": keystoneConf(layout),
    "keystone-runtime.conf": keystoneRuntimeConf(),
    "placement.conf": placementConf(layout),
    "glance-api.conf": glanceConf(layout),
    "neutron.conf": neutronConf(layout),
    "ml2_conf.ini": ml2Conf(),
    "nova.conf": novaConf(layout),
    "keystone-uwsgi.ini": uwsgiIni(layout, {
      name: "keystone",
      port: layout.ports.keystone,
      script: "/usr/bin/keystone-wsgi-public",
    }),
    "placement-uwsgi.ini": uwsgiIni(layout, {
      name: "placement",
      port: layout.ports.placement,
      script: "/usr/bin/placement-api",
    }),
    // Debian's neutron-api script patches with eventlet: more than one thread hangs requests,
    // so two processes of one thread each (every port of every boot goes through Neutron).
    "neutron-uwsgi.ini": uwsgiIni(layout, {
      name: "neutron",
      port: layout.ports.neutron,
      script: "/usr/bin/neutron-api",
      threads: 1,
      processes: 2,
    }),
    "admin-openrc": adminOpenrc(layout),
  };
  for (const host of COMPUTE_HOSTS) {
    files[`nova-compute-${host}.conf`] = novaComputeConf(layout, host);
  }
  return files;
}
