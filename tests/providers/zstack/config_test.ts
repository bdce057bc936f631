import { assertEquals, assertMatch, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import {
  parseZStackConfig,
  resolveZStackCredentials,
  type SecretSources,
} from "../../../providers/zstack/config.ts";

const example = `
endpoint: http://zstack-mn.example:8080/zstack/
auth:
  account:
    name: admin
    passwordFile: /etc/vkedge/zstack-password
clusterName: edge-prod
placement:
  zone: zone-1
  cluster: cluster-1
networks:
  default: [l3-default]
`;

function sources(files: Record<string, string>, env: Record<string, string>): SecretSources {
  return {
    readTextFile: (path) =>
      Object.hasOwn(files, path)
        ? Promise.resolve(files[path])
        : Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`)),
    getEnv: (name) => env[name],
  };
}

Deno.test("zstack config from the documented example takes the defaults", () => {
  const config = parseZStackConfig(example);
  assertEquals(config.endpoint, "http://zstack-mn.example:8080/zstack");
  assertEquals(config.placement, { zone: "zone-1", cluster: "cluster-1" });
  assertEquals(config.networks.default, ["l3-default"]);
  assertEquals(config.onPodDelete, "destroy-and-expunge");
  assertEquals(config.defaults, { cpu: "1", memory: "1Gi" });
  assertEquals(config.pollIntervalSeconds, 5);
  assertEquals(config.maxPods, 110);
  assertEquals(config.images.aliases, {});
  assertEquals(config.volumes, {});
});

Deno.test("zstack config volumes name a default disk offering and primary storage, and nothing else", () => {
  const base = parseZStackConfig(example);
  const config = parseZStackConfig({
    ...base,
    volumes: { diskOffering: "disk-10g", primaryStorage: "ps-local" },
  });
  assertEquals(config.volumes, { diskOffering: "disk-10g", primaryStorage: "ps-local" });
  assertThrows(
    () => parseZStackConfig({ ...base, volumes: { size: "10Gi" } }),
    InvalidInputError,
    `"volumes"`,
  );
  assertThrows(
    () => parseZStackConfig({ ...base, volumes: { diskOffering: "" } }),
    InvalidInputError,
    `"volumes.diskOffering"`,
  );
});

Deno.test("zstack config errors name every offending field and what was found", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{}, /field "endpoint"/],
    [undefined, /expected a file given with --provider-config/],
    [{ ...parseZStackConfig(example), endpoint: "ftp://x" }, /field "endpoint".*protocol "ftp:"/],
    [
      { ...parseZStackConfig(example), auth: { account: { name: "admin", password: "x" } } },
      /field "auth.account".*password/,
    ],
    [
      {
        ...parseZStackConfig(example),
        auth: { account: { name: "admin", passwordFile: "/a", passwordEnv: "B" } },
      },
      /field "auth.account".*exactly one of "passwordFile" and "passwordEnv", found 2/,
    ],
    [{ ...parseZStackConfig(example), auth: {} }, /field "auth".*exactly one of "account"/],
    [{ ...parseZStackConfig(example), clusterName: "a b" }, /field "clusterName".*found "a b"/],
    [{ ...parseZStackConfig(example), networks: { default: [] } }, /field "networks.default"/],
    [{ ...parseZStackConfig(example), onPodDelete: "stop" }, /field "onPodDelete"/],
    [
      { ...parseZStackConfig(example), defaults: { memory: "lots" } },
      /field "defaults.memory".*found "lots"/,
    ],
    ["endpoint: [", /expected YAML or JSON text/],
  ];
  for (const [raw, pattern] of cases) {
    const error = assertThrows(() => parseZStackConfig(raw), InvalidInputError);
    assertMatch(error.message, pattern);
  }
});

Deno.test("the password comes from its file (trailing newline dropped) or its environment variable", async () => {
  const config = parseZStackConfig(example);
  const fromFile = await resolveZStackCredentials(
    config,
    sources({ "/etc/vkedge/zstack-password": "s3cret\n" }, {}),
  );
  assertEquals(fromFile, {
    kind: "account",
    accountName: "admin",
    password: "s3cret",
    passwordIsSha512: false,
  });
  const envConfig = parseZStackConfig({
    ...config,
    auth: { account: { name: "admin", passwordEnv: "ZSTACK_PASSWORD" } },
  });
  const fromEnv = await resolveZStackCredentials(envConfig, sources({}, { ZSTACK_PASSWORD: "pw" }));
  assertEquals(fromEnv.kind === "account" && fromEnv.password, "pw");
  const unset = await assertRejects(
    () => resolveZStackCredentials(envConfig, sources({}, {})),
    InvalidInputError,
  );
  assertMatch(
    unset.message,
    /"auth.account.passwordEnv".*ZSTACK_PASSWORD to be set, found it unset/,
  );
  const missing = await assertRejects(
    () => resolveZStackCredentials(config, sources({}, {})),
    InvalidInputError,
  );
  assertMatch(missing.message, /"auth.account.passwordFile": expected a readable file/);
});

Deno.test("AccessKey id may be inline, the secret only from a file or the environment", async () => {
  const config = parseZStackConfig({
    ...parseZStackConfig(example),
    auth: { accessKey: { id: "KEY", secretEnv: "ZSTACK_SECRET" } },
  });
  assertEquals(
    await resolveZStackCredentials(config, sources({}, { ZSTACK_SECRET: "s" })),
    { kind: "accessKey", accessKeyId: "KEY", accessKeySecret: "s" },
  );
  assertThrows(
    () =>
      parseZStackConfig({
        ...parseZStackConfig(example),
        auth: { accessKey: { id: "KEY", secret: "inline" } },
      }),
    InvalidInputError,
    "secret",
  );
});
