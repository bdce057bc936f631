// The swarm provider configuration: defaults, endpoints, TLS files and messages that name
// the field.

import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { parseSwarmConfig, podNetworkName, readTlsFiles } from "../../../providers/swarm/config.ts";

Deno.test("only clusterName is required: the local socket and every default", () => {
  const config = parseSwarmConfig({ clusterName: "edge" });
  assertEquals(config.endpoint, {
    kind: "unix",
    path: "/var/run/docker.sock",
    text: "unix:///var/run/docker.sock",
  });
  assertEquals(
    [config.apiVersion, config.restartDelaySeconds, config.resyncSeconds, config.maxPods],
    ["1.41", 5, 60, 110],
  );
  assertEquals(podNetworkName(config), "vkedge-edge");
});

Deno.test("a tcp endpoint needs TLS client files; a socket refuses them", () => {
  assertThrows(
    () => parseSwarmConfig({ clusterName: "e", endpoint: "tcp://manager:2376" }),
    InvalidInputError,
    'field "tls": expected caFile, certFile and keyFile for tcp://manager:2376',
  );
  const config = parseSwarmConfig({
    clusterName: "e",
    endpoint: "tcp://manager:2376",
    tls: { caFile: "/ca", certFile: "/c", keyFile: "/k" },
  });
  assertEquals(config.endpoint, {
    kind: "tcp",
    hostname: "manager",
    port: 2376,
    text: "tcp://manager:2376",
  });
  assertThrows(
    () =>
      parseSwarmConfig({
        clusterName: "e",
        endpoint: "unix:///run/docker.sock",
        tls: { caFile: "/ca", certFile: "/c", keyFile: "/k" },
      }),
    InvalidInputError,
    "expected no tls with the unix socket",
  );
});

Deno.test("bad fields are named: endpoint, cluster name, unknown keys", () => {
  assertThrows(
    () => parseSwarmConfig({ clusterName: "e", endpoint: "http://x" }),
    InvalidInputError,
    'field "endpoint": expected "unix:///path/to/docker.sock" or "tcp://host:port", found "http://x"',
  );
  assertThrows(
    () => parseSwarmConfig({ clusterName: "a b" }),
    InvalidInputError,
    'field "clusterName"',
  );
  assertThrows(
    () => parseSwarmConfig({ clusterName: "e", restartDelay: 3 }),
    InvalidInputError,
    "restartDelay",
  );
  assertThrows(() => parseSwarmConfig(undefined), InvalidInputError, "--provider-config");
});

Deno.test("TLS files are read at start-up; an unreadable or non-PEM one names its field", async () => {
  const files: Record<string, string> = {
    "/ca": "-----BEGIN CERTIFICATE-----\n",
    "/c": "-----BEGIN CERTIFICATE-----\n",
    "/k": "not a key",
  };
  const sources = {
    readTextFile: (path: string) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error("no such file")),
    getEnv: () => undefined,
  };
  await assertRejects(
    () => readTlsFiles({ caFile: "/ca", certFile: "/c", keyFile: "/k" }, sources),
    InvalidInputError,
    'field "tls.keyFile": expected a PEM file, found none in /k',
  );
  await assertRejects(
    () => readTlsFiles({ caFile: "/none", certFile: "/c", keyFile: "/k" }, sources),
    InvalidInputError,
    'field "tls.caFile": expected a readable PEM file, found no such file for /none',
  );
});
