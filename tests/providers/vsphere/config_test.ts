// The vsphere provider configuration: defaults, every bad field named, secrets read from files.

import { InvalidInputError } from "../../../lib/provider.ts";
import { parseVsphereConfig, resolveVsphereSecrets } from "../../../providers/vsphere/config.ts";
import {
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../../_harness/assert.ts";

const minimal = {
  endpoint: "https://vc.example",
  auth: { username: "vkedge@vsphere.local", passwordEnv: "VSPHERE_PASSWORD" },
  clusterName: "edge",
};

Deno.test("a minimal configuration gets the /sdk path and every default", () => {
  const config = parseVsphereConfig(minimal);
  assertEquals(config.endpoint, "https://vc.example/sdk");
  assertEquals(config.tls, { insecure: false });
  assertEquals(config.shutdownGraceSeconds, 60);
  assertEquals(config.waitForGuestIp, true);
  assertEquals(config.defaults, { cpu: "1", memory: "1Gi" });
  assertEquals(config.placement, {});
});

Deno.test("bad fields are each named; caFile and insecure together are refused", () => {
  const error = assertThrows(
    () =>
      parseVsphereConfig({
        ...minimal,
        endpoint: "ftp://vc",
        auth: { username: "u" },
        defaults: { cpu: "lots" },
        extra: 1,
      }),
    InvalidInputError,
  );
  for (const field of ["endpoint", "auth", "defaults.cpu"]) {
    assertStringIncludes(error.message, `field "${field}"`);
  }
  assertStringIncludes(error.message, "extra");
  assertThrows(
    () => parseVsphereConfig({ ...minimal, tls: { caFile: "/ca.pem", insecure: true } }),
    InvalidInputError,
    "expected caFile or insecure, not both",
  );
  assertThrows(
    () => parseVsphereConfig(undefined),
    InvalidInputError,
    "endpoint, auth, clusterName",
  );
});

Deno.test("the password and CA come from files or the environment, never the file itself", async () => {
  const files: Record<string, string> = {
    "/pw": "secret\n",
    "/ca.pem": "-----BEGIN CERTIFICATE-----\n",
  };
  const sources = {
    readTextFile: (path: string) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("ENOENT")),
    getEnv: (name: string) => name === "VSPHERE_PASSWORD" ? "from-env" : undefined,
  };
  const fromFile = parseVsphereConfig({
    ...minimal,
    auth: { username: "u", passwordFile: "/pw" },
    tls: { caFile: "/ca.pem" },
  });
  assertEquals(await resolveVsphereSecrets(fromFile, sources), {
    password: "secret",
    caCerts: ["-----BEGIN CERTIFICATE-----"],
  });
  assertEquals(await resolveVsphereSecrets(parseVsphereConfig(minimal), sources), {
    password: "from-env",
  });
  await assertRejects(
    () =>
      resolveVsphereSecrets(
        parseVsphereConfig({ ...minimal, auth: { username: "u", passwordFile: "/missing" } }),
        sources,
      ),
    InvalidInputError,
  );
});
