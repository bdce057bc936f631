import type {
  ConfigMap,
  Container,
  EnvFromSource,
  EnvVar,
  Pod,
  PodSpec,
  Secret,
  Service,
} from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../_harness/assert.ts";
import {
  envEqual,
  type EnvEvent,
  EnvResolutionError,
  type EnvSources,
  resolvePodEnv,
  type ResolvePodEnvOptions,
} from "../../../lib/pods/env.ts";

const NS = "team";

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

function configMap(name: string, data: Record<string, string>, namespace = NS): ConfigMap {
  return { metadata: { namespace, name }, data };
}

function secret(name: string, data: Record<string, string>, namespace = NS): Secret {
  const encoded = Object.entries(data).map(([k, v]) => [k, base64(v)]);
  return { metadata: { namespace, name }, data: Object.fromEntries(encoded) };
}

function service(
  namespace: string,
  name: string,
  clusterIP: string,
  ports: { port: number; name?: string; protocol?: string }[] = [{ port: 80 }],
): Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ports } };
}

const KUBERNETES = service("default", "kubernetes", "10.0.0.1", [{ port: 443, name: "https" }]);

function fakeSources(
  objects: { configMaps?: ConfigMap[]; secrets?: Secret[]; services?: Service[] } = {},
): EnvSources {
  const find = <T extends ConfigMap | Secret>(list: T[] | undefined, ns: string, name: string) =>
    list?.find((o) => o.metadata?.namespace === ns && o.metadata?.name === name);
  return {
    getConfigMap: (ns, name) => find(objects.configMaps, ns, name),
    getSecret: (ns, name) => find(objects.secrets, ns, name),
    listServices: (ns) => (objects.services ?? []).filter((s) => s.metadata?.namespace === ns),
  };
}

function podWith(app: Partial<Container>, spec: Partial<PodSpec> = {}): Pod {
  return {
    metadata: { namespace: NS, name: "web", uid: "uid-1" },
    spec: { containers: [{ name: "app", image: "nginx", ...app }], ...spec },
  };
}

function resolve(
  pod: Pod,
  sources: EnvSources = fakeSources(),
  options: ResolvePodEnvOptions = {},
): { pod: Pod; events: EnvEvent[] } {
  const events: EnvEvent[] = [];
  const resolved = resolvePodEnv(pod, sources, {
    ...options,
    recordEvent: (event) => events.push(event),
  });
  return { pod: resolved, events };
}

/** Resolves and returns the variables of the container `app` as an object. */
function envOf(pod: Pod, sources?: EnvSources, options?: ResolvePodEnvOptions) {
  const resolved = resolve(pod, sources, options);
  const app = resolved.pod.spec!.containers.find((c) => c.name === "app")!;
  return {
    vars: Object.fromEntries((app.env ?? []).map((v) => [v.name, v.value])),
    events: resolved.events,
  };
}

/** Resolves, expecting an EnvResolutionError, and returns it with the recorded events. */
function failure(pod: Pod, sources?: EnvSources, options?: ResolvePodEnvOptions) {
  const events: EnvEvent[] = [];
  const error = assertThrows(
    () =>
      resolvePodEnv(pod, sources ?? fakeSources(), {
        ...options,
        recordEvent: (e) => events.push(e),
      }),
    EnvResolutionError,
  );
  return { error, events };
}

const fromConfigMap = (name: string, key: string, optional?: boolean): EnvVar["valueFrom"] => ({
  configMapKeyRef: { name, key, optional },
});
const fromSecret = (name: string, key: string, optional?: boolean): EnvVar["valueFrom"] => ({
  secretKeyRef: { name, key, optional },
});
const fromField = (fieldPath: string, apiVersion?: string): EnvVar["valueFrom"] => ({
  fieldRef: { fieldPath, apiVersion },
});

// --- shape of the result -----------------------------------------------------------------------

Deno.test("resolvePodEnv replaces env with name/value pairs sorted by name and empties envFrom", () => {
  const pod = podWith({
    env: [{ name: "ZED", value: "z" }, { name: "ALPHA", valueFrom: fromConfigMap("cm", "a") }],
    envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }],
  });
  const { pod: resolved, events } = resolve(
    pod,
    fakeSources({ configMaps: [configMap("cm", { a: "1" })] }),
  );
  assertEquals(resolved.spec!.containers[0].env, [
    { name: "ALPHA", value: "1" },
    { name: "CM_a", value: "1" },
    { name: "ZED", value: "z" },
  ]);
  assertEquals(resolved.spec!.containers[0].envFrom, []);
  assertEquals(events, []);
});

Deno.test("resolvePodEnv returns a deep copy and leaves the input pod untouched", () => {
  const pod = podWith({
    env: [{ name: "A", value: "$(B)" }, { name: "C", valueFrom: fromConfigMap("cm", "c") }],
    envFrom: [{ configMapRef: { name: "cm" } }],
  }, { initContainers: [{ name: "init", env: [{ name: "X", value: "1" }] }] });
  const before = structuredClone(pod);
  const { pod: resolved } = resolve(
    pod,
    fakeSources({ configMaps: [configMap("cm", { c: "3" })] }),
  );
  assertEquals(pod, before);
  assert(resolved !== pod && resolved.spec !== pod.spec && resolved.metadata !== pod.metadata);
  resolved.metadata!.name = "changed";
  assertEquals(pod.metadata?.name, "web");
});

Deno.test("resolvePodEnv resolves init, regular and ephemeral containers", () => {
  const pod = podWith({ env: [{ name: "WHO", value: "app" }] }, {
    initContainers: [{ name: "init", env: [{ name: "WHO", value: "init" }] }],
    ephemeralContainers: [{ name: "debug", envFrom: [{ configMapRef: { name: "cm" } }] }],
  });
  const { pod: resolved } = resolve(
    pod,
    fakeSources({ configMaps: [configMap("cm", { WHO: "debug" })] }),
  );
  assertEquals(resolved.spec!.initContainers![0].env, [{ name: "WHO", value: "init" }]);
  assertEquals(resolved.spec!.containers[0].env, [{ name: "WHO", value: "app" }]);
  assertEquals(resolved.spec!.ephemeralContainers![0].env, [{ name: "WHO", value: "debug" }]);
  assertEquals(resolved.spec!.ephemeralContainers![0].envFrom, []);
});

Deno.test("resolvePodEnv fails on the init container's reference before the regular one's", () => {
  const pod = podWith({ env: [{ name: "A", valueFrom: fromConfigMap("for-app", "k") }] }, {
    initContainers: [{
      name: "init",
      env: [{ name: "A", valueFrom: fromConfigMap("for-init", "k") }],
    }],
  });
  const { error, events } = failure(pod);
  assertEquals(error.message, 'configmap "for-init" not found');
  assertEquals(events.length, 1);
});

Deno.test("resolvePodEnv returns a pod without a spec unchanged", () => {
  const pod: Pod = { metadata: { name: "bare" } };
  assertEquals(resolve(pod).pod, pod);
});

// --- envFrom and env ---------------------------------------------------------------------------

Deno.test("envFrom takes every key of ConfigMaps and Secrets, with an optional prefix", () => {
  const pod = podWith({
    envFrom: [
      { configMapRef: { name: "settings" } },
      { configMapRef: { name: "settings" }, prefix: "CFG_" },
      { secretRef: { name: "creds" }, prefix: "DB_" },
    ],
  });
  const { vars } = envOf(
    pod,
    fakeSources({
      configMaps: [configMap("settings", { MODE: "prod", level: "3" })],
      secrets: [secret("creds", { USER: "admin", PASSWORD: "s3cr=t" })],
    }),
  );
  assertEquals(vars, {
    MODE: "prod",
    level: "3",
    CFG_MODE: "prod",
    CFG_level: "3",
    DB_USER: "admin",
    DB_PASSWORD: "s3cr=t",
  });
});

Deno.test("Secret data is decoded from base64 to UTF-8 text, in envFrom and secretKeyRef", () => {
  const text = "grüße ✓ 秘密\nline two";
  const pod = podWith({
    env: [{ name: "ONE", valueFrom: fromSecret("s", "k") }],
    envFrom: [{ secretRef: { name: "s" } }],
  });
  const { vars } = envOf(pod, fakeSources({ secrets: [secret("s", { k: text, empty: "" })] }));
  assertEquals(vars, { ONE: text, k: text, empty: "" });
});

Deno.test("invalid Secret base64 is an InvalidSecretData error", () => {
  const pod = podWith({ env: [{ name: "A", valueFrom: fromSecret("s", "k") }] });
  const broken: Secret = { metadata: { namespace: NS, name: "s" }, data: { k: "%%%" } };
  const { error, events } = failure(pod, fakeSources({ secrets: [broken] }));
  assertEquals(error.reason, "InvalidSecretData");
  assertStringIncludes(error.message, "expected base64 data");
  assertEquals(events.map((e) => e.reason), ["InvalidSecretData"]);
});

Deno.test("envFrom skips invalid names and reports them sorted in one Warning", () => {
  const cases: { name: string; prefix?: string; expectVars: string[]; expectInvalid: string[] }[] =
    [
      {
        name: "without prefix",
        expectVars: ["GOOD", "_under", "dots.and-dashes", "x9"],
        expectInvalid: ["1starts-with-digit", "has space", "with=equals", "ümlaut"],
      },
      {
        name: "a prefix makes a leading digit valid",
        prefix: "P_",
        expectVars: ["P_1starts-with-digit", "P_GOOD", "P__under", "P_dots.and-dashes", "P_x9"],
        expectInvalid: ["P_has space", "P_with=equals", "P_ümlaut"],
      },
    ];
  const data = {
    "with=equals": "1",
    GOOD: "2",
    "1starts-with-digit": "3",
    "has space": "4",
    "dots.and-dashes": "5",
    _under: "6",
    x9: "7",
    "ümlaut": "8",
  };
  for (const c of cases) {
    const pod = podWith({ envFrom: [{ configMapRef: { name: "cm" }, prefix: c.prefix }] });
    const { vars, events } = envOf(pod, fakeSources({ configMaps: [configMap("cm", data)] }));
    assertEquals(Object.keys(vars).sort(), c.expectVars, c.name);
    assertEquals(events.length, 1, c.name);
    assertEquals(events[0].type, "Warning");
    assertEquals(events[0].reason, "InvalidEnvironmentVariableNames");
    assertStringIncludes(events[0].message, `[${c.expectInvalid.join(", ")}]`, c.name);
    assertStringIncludes(events[0].message, 'container "app"');
  }
});

Deno.test("invalid names from several envFrom sources are reported in a single event", () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "cm" } }, { secretRef: { name: "s" } }],
  });
  const { events } = envOf(
    pod,
    fakeSources({
      configMaps: [configMap("cm", { "b b": "1" })],
      secrets: [secret("s", { "a=a": "2", "9": "3" })],
    }),
  );
  assertEquals(events.map((e) => e.reason), ["InvalidEnvironmentVariableNames"]);
  assertStringIncludes(events[0].message, "[9, a=a, b b]");
});

Deno.test("env overrides envFrom, later env entries win, and a later envFrom source wins", () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "first" } }, { configMapRef: { name: "second" } }],
    env: [
      { name: "FROM_ENV", value: "one" },
      { name: "SHARED", value: "env" },
      { name: "FROM_ENV", value: "two" },
    ],
  });
  const { vars } = envOf(
    pod,
    fakeSources({
      configMaps: [
        configMap("first", { SHARED: "first", ONLY_FIRST: "1", BOTH: "first" }),
        configMap("second", { BOTH: "second" }),
      ],
    }),
  );
  assertEquals(vars, { SHARED: "env", ONLY_FIRST: "1", BOTH: "second", FROM_ENV: "two" });
});

Deno.test("an entry without value or valueFrom is set to the empty string", () => {
  const { vars } = envOf(podWith({ env: [{ name: "EMPTY" }, { name: "BLANK", value: "" }] }));
  assertEquals(vars, { EMPTY: "", BLANK: "" });
});

Deno.test("configMapKeyRef and secretKeyRef read one key", () => {
  const pod = podWith({
    env: [
      { name: "LEVEL", valueFrom: fromConfigMap("cm", "level") },
      { name: "TOKEN", valueFrom: fromSecret("s", "token") },
    ],
  });
  const { vars } = envOf(
    pod,
    fakeSources({
      configMaps: [configMap("cm", { level: "debug" })],
      secrets: [secret("s", { token: "abc" })],
    }),
  );
  assertEquals(vars, { LEVEL: "debug", TOKEN: "abc" });
});

Deno.test("references are looked up in the pod's namespace only", () => {
  const pod = podWith({ env: [{ name: "A", valueFrom: fromConfigMap("cm", "k", true) }] });
  const { vars, events } = envOf(
    pod,
    fakeSources({ configMaps: [configMap("cm", { k: "elsewhere" }, "other")] }),
  );
  assertEquals(vars, {});
  assertEquals(events.map((e) => e.reason), ["OptionalConfigMapNotFound"]);
});

// --- missing references ------------------------------------------------------------------------

Deno.test("missing optional references are skipped with a Warning naming them", () => {
  const existing = {
    configMaps: [configMap("cm", { other: "x" })],
    secrets: [secret("s", { other: "x" })],
  };
  const cases: {
    name: string;
    env?: EnvVar[];
    envFrom?: EnvFromSource[];
    reason: string;
    message: string;
  }[] = [
    {
      name: "configMapKeyRef to a missing ConfigMap",
      env: [{ name: "V", valueFrom: fromConfigMap("gone", "k", true) }],
      reason: "OptionalConfigMapNotFound",
      message: `configmap "${NS}/gone" not found`,
    },
    {
      name: "configMapKeyRef to a missing key",
      env: [{ name: "V", valueFrom: fromConfigMap("cm", "k", true) }],
      reason: "OptionalConfigMapKeyNotFound",
      message: `configmap "${NS}/cm" has no key "k"; skipping optional variable "V"`,
    },
    {
      name: "configMapKeyRef to a key named like an Object.prototype member",
      env: [{ name: "V", valueFrom: fromConfigMap("cm", "toString", true) }],
      reason: "OptionalConfigMapKeyNotFound",
      message: `configmap "${NS}/cm" has no key "toString"`,
    },
    {
      name: "secretKeyRef to a missing Secret",
      env: [{ name: "V", valueFrom: fromSecret("gone", "k", true) }],
      reason: "OptionalSecretNotFound",
      message: `secret "${NS}/gone" not found`,
    },
    {
      name: "secretKeyRef to a missing key",
      env: [{ name: "V", valueFrom: fromSecret("s", "k", true) }],
      reason: "OptionalSecretKeyNotFound",
      message: `secret "${NS}/s" has no key "k"`,
    },
    {
      name: "envFrom of a missing optional ConfigMap",
      envFrom: [{ configMapRef: { name: "gone", optional: true } }],
      reason: "OptionalConfigMapNotFound",
      message: `configmap "${NS}/gone" not found`,
    },
    {
      name: "envFrom of a missing optional Secret",
      envFrom: [{ secretRef: { name: "gone", optional: true } }],
      reason: "OptionalSecretNotFound",
      message: `secret "${NS}/gone" not found`,
    },
  ];
  for (const c of cases) {
    const pod = podWith({
      env: [...c.env ?? [], { name: "KEPT", value: "yes" }],
      envFrom: c.envFrom,
    });
    const { vars, events } = envOf(pod, fakeSources(existing));
    assertEquals(vars, { KEPT: "yes" }, c.name);
    assertEquals(events.map((e) => [e.type, e.reason]), [["Warning", c.reason]], c.name);
    assertStringIncludes(events[0].message, c.message, c.name);
  }
});

Deno.test("a skipped optional env entry keeps the value envFrom gave the same name", () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "base" } }],
    env: [{ name: "MODE", valueFrom: fromConfigMap("override", "mode", true) }],
  });
  const { vars } = envOf(
    pod,
    fakeSources({ configMaps: [configMap("base", { MODE: "default" })] }),
  );
  assertEquals(vars, { MODE: "default" });
});

Deno.test("missing mandatory references record a Warning and throw EnvResolutionError", () => {
  const existing = {
    configMaps: [configMap("cm", { other: "x" })],
    secrets: [secret("s", { other: "x" })],
  };
  const cases: {
    name: string;
    env?: EnvVar[];
    envFrom?: EnvFromSource[];
    reason: string;
    message: string;
  }[] = [
    {
      name: "configMapKeyRef to a missing ConfigMap",
      env: [{ name: "V", valueFrom: fromConfigMap("gone", "k") }],
      reason: "MandatoryConfigMapNotFound",
      message: 'configmap "gone" not found',
    },
    {
      name: "configMapKeyRef with optional: false",
      env: [{ name: "V", valueFrom: fromConfigMap("gone", "k", false) }],
      reason: "MandatoryConfigMapNotFound",
      message: 'configmap "gone" not found',
    },
    {
      name: "configMapKeyRef to a missing key",
      env: [{ name: "V", valueFrom: fromConfigMap("cm", "k") }],
      reason: "MandatoryConfigMapKeyNotFound",
      message: `configmap "cm" doesn't contain the "k" key required by pod ${NS}/web`,
    },
    {
      name: "secretKeyRef to a missing Secret",
      env: [{ name: "V", valueFrom: fromSecret("gone", "k") }],
      reason: "MandatorySecretNotFound",
      message: 'secret "gone" not found',
    },
    {
      name: "secretKeyRef to a missing key",
      env: [{ name: "V", valueFrom: fromSecret("s", "k") }],
      reason: "MandatorySecretKeyNotFound",
      message: `secret "s" doesn't contain the "k" key required by pod ${NS}/web`,
    },
    {
      name: "envFrom of a missing ConfigMap",
      envFrom: [{ configMapRef: { name: "gone" } }],
      reason: "MandatoryConfigMapNotFound",
      message: 'configmap "gone" not found',
    },
    {
      name: "envFrom of a missing Secret",
      envFrom: [{ secretRef: { name: "gone", optional: false } }],
      reason: "MandatorySecretNotFound",
      message: 'secret "gone" not found',
    },
  ];
  for (const c of cases) {
    const { error, events } = failure(
      podWith({ env: c.env, envFrom: c.envFrom }),
      fakeSources(existing),
    );
    assertEquals(error.reason, c.reason, c.name);
    assertEquals(error.message, c.message, c.name);
    assertEquals(events, [{ type: "Warning", reason: c.reason, message: c.message }], c.name);
  }
});

Deno.test("a source that fails to read is a FailedToRead… Warning, thrown only when mandatory", () => {
  const broken: EnvSources = {
    getConfigMap: () => {
      throw new Error("cache not synced");
    },
    getSecret: () => {
      throw new Error("cache not synced");
    },
    listServices: () => [],
  };
  const optional = envOf(
    podWith({ env: [{ name: "V", valueFrom: fromSecret("s", "k", true) }] }),
    broken,
  );
  assertEquals(optional.vars, {});
  assertEquals(optional.events.map((e) => e.reason), ["FailedToReadOptionalSecret"]);
  assertStringIncludes(optional.events[0].message, "cache not synced");

  const { error } = failure(podWith({ envFrom: [{ configMapRef: { name: "cm" } }] }), broken);
  assertEquals(error.reason, "FailedToReadMandatoryConfigMap");
  assertStringIncludes(error.message, `"${NS}/cm"`);
});

Deno.test("the same event is recorded once per resolution", () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "gone", optional: true } }],
    env: [{ name: "A", valueFrom: fromConfigMap("gone", "a", true) }],
  }, {
    initContainers: [{
      name: "init",
      envFrom: [{ configMapRef: { name: "gone", optional: true } }],
    }],
  });
  assertEquals(resolve(pod).events.map((e) => e.reason), ["OptionalConfigMapNotFound"]);
});

// --- $(VAR) expansion --------------------------------------------------------------------------

Deno.test("$(VAR) in values expands like the kubelet", () => {
  const cases: [string, string][] = [
    ["$(BASE)/api", "http://x/api"],
    ["$(BASE)$(PORT)", "http://x8080"],
    ["$$(BASE)", "$(BASE)"],
    ["$$$(PORT)", "$8080"],
    ["$(UNKNOWN)", "$(UNKNOWN)"],
    ["$(BASE", "$(BASE"],
    ["$()", "$()"],
    ["cost: $5", "cost: $5"],
    ["trailing $", "trailing $"],
    ["$$", "$"],
    ["$(FROM_CM)-$(KUBERNETES_SERVICE_HOST)", "cm-10.0.0.1"],
    ["$(LATER)", "$(LATER)"],
  ];
  for (const [input, expected] of cases) {
    const pod = podWith({
      envFrom: [{ configMapRef: { name: "cm" } }],
      env: [
        { name: "BASE", value: "http://x" },
        { name: "PORT", value: "8080" },
        { name: "OUT", value: input },
        { name: "LATER", value: "late" },
      ],
    });
    const { vars } = envOf(
      pod,
      fakeSources({ configMaps: [configMap("cm", { FROM_CM: "cm" })], services: [KUBERNETES] }),
    );
    assertEquals(vars.OUT, expected, input);
  }
});

Deno.test("$(VAR) may refer to the value envFrom gave the same name, and valueFrom is not expanded", () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: "cm" } }],
    env: [
      { name: "PATH", value: "/opt/bin:$(PATH)" },
      { name: "RAW", valueFrom: fromConfigMap("cm", "raw") },
    ],
  });
  const { vars } = envOf(
    pod,
    fakeSources({ configMaps: [configMap("cm", { PATH: "/bin", raw: "$(PATH)" })] }),
  );
  assertEquals(vars.PATH, "/opt/bin:/bin");
  assertEquals(vars.RAW, "$(PATH)");
});

// --- service links -----------------------------------------------------------------------------

const SERVICES = [
  KUBERNETES,
  service("default", "elsewhere", "10.0.0.9"),
  service(NS, "redis-master", "10.0.0.11", [
    { port: 6379, name: "redis" },
    { port: 9121, name: "metrics-http", protocol: "TCP" },
  ]),
  service(NS, "dns", "10.0.0.10", [{ port: 53, name: "dns", protocol: "UDP" }]),
  service(NS, "headless", "None"),
  service(NS, "external", ""),
];

Deno.test("service links cover same-namespace services with a ClusterIP and the kubernetes service", () => {
  const { vars } = envOf(podWith({}), fakeSources({ services: SERVICES }));
  assertEquals(vars, {
    KUBERNETES_SERVICE_HOST: "10.0.0.1",
    KUBERNETES_SERVICE_PORT: "443",
    KUBERNETES_SERVICE_PORT_HTTPS: "443",
    KUBERNETES_PORT: "tcp://10.0.0.1:443",
    KUBERNETES_PORT_443_TCP: "tcp://10.0.0.1:443",
    KUBERNETES_PORT_443_TCP_PROTO: "tcp",
    KUBERNETES_PORT_443_TCP_PORT: "443",
    KUBERNETES_PORT_443_TCP_ADDR: "10.0.0.1",
    REDIS_MASTER_SERVICE_HOST: "10.0.0.11",
    REDIS_MASTER_SERVICE_PORT: "6379",
    REDIS_MASTER_SERVICE_PORT_REDIS: "6379",
    REDIS_MASTER_SERVICE_PORT_METRICS_HTTP: "9121",
    REDIS_MASTER_PORT: "tcp://10.0.0.11:6379",
    REDIS_MASTER_PORT_6379_TCP: "tcp://10.0.0.11:6379",
    REDIS_MASTER_PORT_6379_TCP_PROTO: "tcp",
    REDIS_MASTER_PORT_6379_TCP_PORT: "6379",
    REDIS_MASTER_PORT_6379_TCP_ADDR: "10.0.0.11",
    REDIS_MASTER_PORT_9121_TCP: "tcp://10.0.0.11:9121",
    REDIS_MASTER_PORT_9121_TCP_PROTO: "tcp",
    REDIS_MASTER_PORT_9121_TCP_PORT: "9121",
    REDIS_MASTER_PORT_9121_TCP_ADDR: "10.0.0.11",
    DNS_SERVICE_HOST: "10.0.0.10",
    DNS_SERVICE_PORT: "53",
    DNS_SERVICE_PORT_DNS: "53",
    DNS_PORT: "udp://10.0.0.10:53",
    DNS_PORT_53_UDP: "udp://10.0.0.10:53",
    DNS_PORT_53_UDP_PROTO: "udp",
    DNS_PORT_53_UDP_PORT: "53",
    DNS_PORT_53_UDP_ADDR: "10.0.0.10",
  });
});

Deno.test("enableServiceLinks: false keeps only the kubernetes service's variables", () => {
  const { vars } = envOf(
    podWith({}, { enableServiceLinks: false }),
    fakeSources({ services: SERVICES }),
  );
  assert(Object.keys(vars).length > 0);
  assert(
    Object.keys(vars).every((name) => name.startsWith("KUBERNETES_")),
    Object.keys(vars).join(),
  );
});

Deno.test("explicit variables win over service links of the same name", () => {
  const pod = podWith({ env: [{ name: "DNS_SERVICE_HOST", value: "mine" }] });
  const { vars } = envOf(pod, fakeSources({ services: SERVICES }));
  assertEquals(vars.DNS_SERVICE_HOST, "mine");
  assertEquals(vars.DNS_SERVICE_PORT, "53");
});

Deno.test("the master service namespace is configurable and a local kubernetes service wins", () => {
  const master = service("control", "kubernetes", "10.1.0.1", [{ port: 6443 }]);
  const cases: {
    name: string;
    services: Service[];
    options?: ResolvePodEnvOptions;
    host?: string;
  }[] = [
    { name: "default namespace by default", services: [KUBERNETES, master], host: "10.0.0.1" },
    {
      name: "masterServiceNamespace option",
      services: [KUBERNETES, master],
      options: { masterServiceNamespace: "control" },
      host: "10.1.0.1",
    },
    {
      name: "a headless master service gives no variables",
      services: [service("default", "kubernetes", "None")],
    },
    {
      name: "the pod namespace's own kubernetes service",
      services: [KUBERNETES, service(NS, "kubernetes", "10.2.0.1")],
      host: "10.2.0.1",
    },
  ];
  for (const c of cases) {
    const { vars } = envOf(podWith({}), fakeSources({ services: c.services }), c.options);
    assertEquals(vars.KUBERNETES_SERVICE_HOST, c.host, c.name);
  }
});

Deno.test("service links bracket IPv6 cluster IPs in URLs", () => {
  const { vars } = envOf(
    podWith({}),
    fakeSources({ services: [service(NS, "v6", "fd00::1", [{ port: 80 }])] }),
  );
  assertEquals(vars.V6_SERVICE_HOST, "fd00::1");
  assertEquals(vars.V6_PORT, "tcp://[fd00::1]:80");
  assertEquals(vars.V6_PORT_80_TCP_ADDR, "fd00::1");
});

// --- fieldRef ----------------------------------------------------------------------------------

Deno.test("fieldRef reads the downward API fields", () => {
  const pod: Pod = {
    metadata: {
      namespace: NS,
      name: "web",
      uid: "uid-1",
      labels: { tier: "front", app: "web" },
      annotations: { note: 'say "hi"\n\tback\\slash', "a/b": "ok" },
    },
    spec: { containers: [], nodeName: "edge-1", serviceAccountName: "robot" },
    status: {
      hostIP: "192.168.1.5",
      hostIPs: [{ ip: "192.168.1.5" }, { ip: "fd00::5" }],
      podIP: "10.244.0.7",
      podIPs: [{ ip: "10.244.0.7" }, { ip: "fd01::7" }],
    },
  };
  const cases: [string, string][] = [
    ["metadata.name", "web"],
    ["metadata.namespace", NS],
    ["metadata.uid", "uid-1"],
    ["metadata.labels", 'app="web"\ntier="front"'],
    ["metadata.annotations", 'a/b="ok"\nnote="say \\"hi\\"\\n\\tback\\\\slash"'],
    ["metadata.labels['tier']", "front"],
    ["metadata.labels['missing']", ""],
    ["metadata.labels['constructor']", ""],
    ["metadata.annotations['a/b']", "ok"],
    ["spec.nodeName", "edge-1"],
    ["spec.host", "edge-1"],
    ["spec.serviceAccountName", "robot"],
    ["status.hostIP", "192.168.1.5"],
    ["status.hostIPs", "192.168.1.5,fd00::5"],
    ["status.podIP", "10.244.0.7"],
    ["status.podIPs", "10.244.0.7,fd01::7"],
  ];
  for (const [fieldPath, expected] of cases) {
    pod.spec!.containers = [{
      name: "app",
      env: [{ name: "V", valueFrom: fromField(fieldPath, "v1") }],
    }];
    assertEquals(envOf(pod).vars.V, expected, fieldPath);
  }
});

Deno.test("fieldRef to status, labels or node of a pod that has none yet is the empty string", () => {
  const paths = [
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    "spec.nodeName",
    "metadata.labels",
    "metadata.annotations['x']",
  ];
  for (const fieldPath of paths) {
    const { vars } = envOf(podWith({ env: [{ name: "V", valueFrom: fromField(fieldPath) }] }));
    assertEquals(vars.V, "", fieldPath);
  }
});

Deno.test("fieldRef status.podIPs falls back to status.podIP", () => {
  const pod: Pod = {
    ...podWith({ env: [{ name: "V", valueFrom: fromField("status.podIPs") }] }),
    status: { podIP: "10.0.0.3" },
  };
  assertEquals(envOf(pod).vars.V, "10.0.0.3");
});

Deno.test("fieldRef to an unsupported path or apiVersion is an UnsupportedFieldPath error", () => {
  const cases: [string, string | undefined][] = [
    ["spec.restartPolicy", undefined],
    ["status.phase", undefined],
    ["spec.schedulerName", "v1"],
    ["metadata.generateName", undefined],
    ["metadata.name['x']", undefined],
    ["metadata.name", "v2"],
  ];
  for (const [fieldPath, apiVersion] of cases) {
    const pod = podWith({ env: [{ name: "V", valueFrom: fromField(fieldPath, apiVersion) }] });
    const { error, events } = failure(pod);
    assertEquals(error.reason, "UnsupportedFieldPath", fieldPath);
    assertStringIncludes(error.message, apiVersion === "v2" ? 'found "v2"' : `"${fieldPath}"`);
    assertEquals(events.map((e) => e.reason), ["UnsupportedFieldPath"]);
  }
});

// --- resourceFieldRef --------------------------------------------------------------------------

Deno.test("resourceFieldRef reports resources rounded up per divisor", () => {
  const resources = {
    limits: { cpu: "1500m", memory: "256Mi", "ephemeral-storage": "2Gi", "hugepages-2Mi": "4Mi" },
    requests: { cpu: "250m", memory: "100M", "ephemeral-storage": "1G" },
  };
  const cases: {
    resource: string;
    divisor?: string;
    expected: string;
    allocatable?: Record<string, string>;
  }[] = [
    { resource: "limits.cpu", expected: "2" },
    { resource: "limits.cpu", divisor: "1m", expected: "1500" },
    { resource: "requests.cpu", expected: "1" },
    { resource: "requests.cpu", divisor: "1m", expected: "250" },
    { resource: "requests.cpu", divisor: "0", expected: "1" },
    { resource: "limits.memory", expected: "268435456" },
    { resource: "limits.memory", divisor: "1Mi", expected: "256" },
    { resource: "limits.memory", divisor: "1G", expected: "1" },
    { resource: "requests.memory", divisor: "1Mi", expected: "96" },
    { resource: "requests.memory", divisor: "1M", expected: "100" },
    { resource: "limits.ephemeral-storage", divisor: "1Gi", expected: "2" },
    { resource: "requests.ephemeral-storage", divisor: "1Mi", expected: "954" },
    { resource: "limits.hugepages-2Mi", divisor: "1Mi", expected: "4" },
  ];
  for (const c of cases) {
    const pod = podWith({
      resources,
      env: [{
        name: "V",
        valueFrom: { resourceFieldRef: { resource: c.resource, divisor: c.divisor } },
      }],
    });
    assertEquals(envOf(pod).vars.V, c.expected, `${c.resource} / ${c.divisor}`);
  }
});

Deno.test("resourceFieldRef without a limit uses node allocatable, then the request, then 0", () => {
  const cases: {
    name: string;
    resource: string;
    resources: Container["resources"];
    allocatable?: Record<string, string>;
    expected: string;
  }[] = [
    {
      name: "allocatable",
      resource: "limits.cpu",
      resources: { requests: { cpu: "1" } },
      allocatable: { cpu: "8", memory: "16Gi" },
      expected: "8",
    },
    {
      name: "request",
      resource: "limits.cpu",
      resources: { requests: { cpu: "2" } },
      expected: "2",
    },
    { name: "nothing", resource: "limits.memory", resources: {}, expected: "0" },
    {
      name: "request defaults to limit",
      resource: "requests.cpu",
      resources: { limits: { cpu: "3" } },
      expected: "3",
    },
    {
      name: "no request",
      resource: "requests.memory",
      resources: undefined,
      allocatable: { memory: "1Gi" },
      expected: "0",
    },
  ];
  for (const c of cases) {
    const pod = podWith({
      resources: c.resources,
      env: [{ name: "V", valueFrom: { resourceFieldRef: { resource: c.resource } } }],
    });
    assertEquals(
      envOf(pod, undefined, { nodeAllocatable: c.allocatable }).vars.V,
      c.expected,
      c.name,
    );
  }
});

Deno.test("resourceFieldRef with containerName reads another container's resources", () => {
  const pod = podWith({
    env: [{
      name: "SIDECAR_MEM",
      valueFrom: {
        resourceFieldRef: { containerName: "sidecar", resource: "limits.memory", divisor: "1Mi" },
      },
    }],
  });
  pod.spec!.containers.push({ name: "sidecar", resources: { limits: { memory: "64Mi" } } });
  assertEquals(envOf(pod).vars.SIDECAR_MEM, "64");
});

Deno.test("an unknown resource, container or quantity is an InvalidResourceFieldRef error", () => {
  const cases: {
    name: string;
    containerName?: string;
    resource: string;
    divisor?: string;
    message: string;
  }[] = [
    { name: "resource", resource: "limits.gpu", message: 'found "limits.gpu"' },
    { name: "kind", resource: "cpu", message: 'found "cpu"' },
    {
      name: "container",
      containerName: "nope",
      resource: "limits.cpu",
      message: 'container named "nope"',
    },
    { name: "divisor", resource: "limits.cpu", divisor: "lots", message: 'found "lots"' },
  ];
  for (const c of cases) {
    const pod = podWith({
      resources: { limits: { cpu: "1" } },
      env: [{
        name: "V",
        valueFrom: {
          resourceFieldRef: {
            containerName: c.containerName,
            resource: c.resource,
            divisor: c.divisor,
          },
        },
      }],
    });
    const { error, events } = failure(pod);
    assertEquals(error.reason, "InvalidResourceFieldRef", c.name);
    assertStringIncludes(error.message, c.message, c.name);
    assertStringIncludes(error.message, 'variable "V"', c.name);
    assertEquals(events.map((e) => e.reason), ["InvalidResourceFieldRef"]);
  }
});

// --- envEqual ----------------------------------------------------------------------------------

Deno.test("envEqual compares environment lists regardless of order", () => {
  const a: EnvVar = { name: "A", value: "1" };
  const b: EnvVar = { name: "B", value: "2" };
  const ref: EnvVar = { name: "C", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } };
  const refReordered: EnvVar = {
    valueFrom: { configMapKeyRef: { key: "k", name: "cm" } },
    name: "C",
  };
  const cases: [string, EnvVar[] | undefined, EnvVar[] | undefined, boolean][] = [
    ["same order", [a, b], [a, b], true],
    ["other order", [a, b, ref], [ref, b, a], true],
    ["key order inside valueFrom", [ref], [refReordered], true],
    ["undefined and empty", undefined, [], true],
    ["empty value and absent value", [{ name: "E", value: "" }], [{ name: "E" }], true],
    ["different value", [a], [{ name: "A", value: "2" }], false],
    ["missing entry", [a, b], [a], false],
    ["duplicate counts", [a, a, b], [a, b, b], false],
    ["value vs valueFrom", [{ name: "C", value: "" }], [ref], false],
  ];
  for (const [name, left, right, expected] of cases) {
    assertEquals(envEqual(left, right), expected, name);
    assertEquals(envEqual(right, left), expected, name);
  }
});

Deno.test("envEqual holds between a resolved pod and a reordered copy of it", () => {
  const pod = podWith({
    env: [{ name: "Z", value: "1" }, { name: "A", value: "2" }],
  });
  const first = resolve(pod, fakeSources({ services: SERVICES })).pod.spec!.containers[0].env;
  const again =
    resolve(pod, fakeSources({ services: [...SERVICES].reverse() })).pod.spec!.containers[0].env;
  assertEquals(first, again);
  assert(envEqual(first, [...first!].reverse()));
});
