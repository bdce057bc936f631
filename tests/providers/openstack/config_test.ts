import {
  parseOpenStackConfig,
  resolveOpenStackCredentials,
} from "../../../providers/openstack/config.ts";
import { authBody } from "../../../providers/openstack/keystone.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { assertEquals, assertMatch, assertRejects, assertThrows } from "../../_harness/assert.ts";

const minimal = {
  auth: {
    url: "https://keystone.example:5000/v3/",
    password: { username: "vkedge", passwordEnv: "OS_PASSWORD", project: "edge" },
  },
  clusterName: "edge-prod",
  networks: { default: ["private"] },
};

const sources = (files: Record<string, string>, env: Record<string, string> = {}) => ({
  readTextFile: (path: string) =>
    path in files ? Promise.resolve(files[path]) : Promise.reject(new Error(`no ${path}`)),
  getEnv: (name: string) => env[name],
});

Deno.test("a minimal configuration gets the defaults", () => {
  const config = parseOpenStackConfig(minimal);
  assertEquals(config.auth.url, "https://keystone.example:5000/v3");
  assertEquals(
    [config.interface, config.onPodDelete, config.onEvictedPodDelete, config.migration],
    [
      "public",
      "delete",
      "keep",
      "auto",
    ],
  );
  assertEquals(config.defaults, { cpu: "1", memory: "512Mi" });
});

Deno.test("a bad configuration names every offending field", () => {
  const error = assertThrows(() =>
    parseOpenStackConfig({
      auth: { url: "keystone", password: { username: "u", project: "p" } },
      clusterName: "edge prod",
      networks: { default: [] },
    }), InvalidInputError);
  assertMatch(error.message, /openstack provider config: /);
  assertMatch(error.message, /field "auth.url": expected a URL/);
  assertMatch(
    error.message,
    /field "auth.password": expected exactly one of "passwordFile", "passwordEnv", found none/,
  );
  assertMatch(error.message, /field "clusterName"/);
  assertMatch(error.message, /field "networks.default"/);
  assertMatch(
    assertThrows(() => parseOpenStackConfig(undefined), InvalidInputError).message,
    /auth, clusterName, networks/,
  );
});

Deno.test("password credentials read their secret from the file or variable named, domains default", async () => {
  const config = parseOpenStackConfig({
    ...minimal,
    auth: {
      ...minimal.auth,
      password: { username: "vkedge", passwordFile: "/p", project: "edge" },
    },
  });
  const credentials = await resolveOpenStackCredentials(config, sources({ "/p": "s3cret\n" }));
  assertEquals(credentials, {
    kind: "password",
    user: { name: "vkedge", domain: { name: "Default" } },
    password: "s3cret",
    project: { name: "edge", domain: { name: "Default" } },
  });
  assertEquals(authBody(credentials), {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: "vkedge", domain: { name: "Default" }, password: "s3cret" } },
      },
      scope: { project: { name: "edge", domain: { name: "Default" } } },
    },
  });
  await assertRejects(
    () => resolveOpenStackCredentials(parseOpenStackConfig(minimal), sources({})),
    InvalidInputError,
    "OS_PASSWORD",
  );
});

Deno.test("application credentials by id (from a variable) or by name with their user", async () => {
  const byId = parseOpenStackConfig({
    ...minimal,
    auth: {
      url: "http://k/v3",
      applicationCredential: { idEnv: "OS_AC_ID", secretEnv: "OS_AC_SECRET" },
    },
  });
  const credentials = await resolveOpenStackCredentials(
    byId,
    sources({}, { OS_AC_ID: "ac1", OS_AC_SECRET: "s" }),
  );
  assertEquals(authBody(credentials), {
    auth: {
      identity: {
        methods: ["application_credential"],
        application_credential: { id: "ac1", secret: "s" },
      },
    },
  });
  const byName = parseOpenStackConfig({
    ...minimal,
    auth: {
      url: "http://k/v3",
      applicationCredential: { name: "edge", username: "vkedge", secretFile: "/s" },
    },
  });
  assertEquals(
    authBody(await resolveOpenStackCredentials(byName, sources({ "/s": "t" }))),
    {
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: {
            name: "edge",
            user: { name: "vkedge", domain: { name: "Default" } },
            secret: "t",
          },
        },
      },
    },
  );
});
