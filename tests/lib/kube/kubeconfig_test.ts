import { stringify } from "yaml";
import { assertEquals, assertRejects, assertStringIncludes } from "../../_harness/assert.ts";
import { KubeConfigError, loadKubeConfig } from "../../../lib/kube/mod.ts";
import { b64, CA, CERT, type Doc, KEY, kubeconfig, noEnv, withDir } from "./_config_fixtures.ts";

async function expectConfigError(path: string, message: string): Promise<void> {
  const error = await assertRejects(
    () => loadKubeConfig({ path, env: noEnv() }),
    KubeConfigError,
  );
  assertEquals(error.message, message);
}

Deno.test("loadKubeConfig reads inline data, token and the context's namespace", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      kubeconfig({
        user: { "client-certificate-data": b64(CERT), "client-key-data": b64(KEY) },
        context: { namespace: "team-a" },
      }),
    );
    const config = await loadKubeConfig({ path, env: noEnv() });
    assertEquals(config.server, "https://127.0.0.1:6443");
    assertEquals(config.namespace, "team-a");
    assertEquals(config.caPem, CA);
    assertEquals(config.certPem, CERT);
    assertEquals(config.keyPem, KEY);
    assertEquals(config.token, "secret-token");
    assertEquals(config.source, `kubeconfig ${path}, context admin@c1`);
  });
});

Deno.test("loadKubeConfig resolves relative file paths against the kubeconfig's directory", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/pki`);
    await Deno.writeTextFile(`${dir}/pki/ca.crt`, CA);
    await Deno.writeTextFile(`${dir}/pki/admin.crt`, CERT);
    await Deno.writeTextFile(`${dir}/pki/admin.key`, KEY);
    await Deno.writeTextFile(`${dir}/pki/token`, "file-token\n");
    await Deno.writeTextFile(
      `${dir}/config`,
      kubeconfig({
        cluster: { "certificate-authority-data": undefined, "certificate-authority": "pki/ca.crt" },
        user: {
          token: undefined,
          tokenFile: "pki/token",
          "client-certificate": "pki/admin.crt",
          "client-key": `${dir}/pki/admin.key`,
        },
      }),
    );
    const config = await loadKubeConfig({ path: `${dir}/config`, env: noEnv() });
    assertEquals(config.caPem, CA);
    assertEquals(config.certPem, CERT);
    assertEquals(config.keyPem, KEY);
    assertEquals(config.tokenFile, `${dir}/pki/token`);
    assertEquals(config.token, undefined);
    assertEquals(config.namespace, "default");
  });
});

Deno.test("loadKubeConfig uses an explicit context instead of current-context", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      stringify({
        "current-context": "one",
        clusters: [
          { name: "a", cluster: { server: "https://a.example:6443" } },
          { name: "b", cluster: { server: "https://b.example:6443/" } },
        ],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [
          { name: "one", context: { cluster: "a", user: "u" } },
          { name: "two", context: { cluster: "b", user: "u", namespace: "ns2" } },
        ],
      }),
    );
    const current = await loadKubeConfig({ path, env: noEnv() });
    assertEquals(current.server, "https://a.example:6443");
    const two = await loadKubeConfig({ path, context: "two", env: noEnv() });
    assertEquals(two.server, "https://b.example:6443");
    assertEquals(two.namespace, "ns2");
    await assertRejects(
      () => loadKubeConfig({ path, context: "three", env: noEnv() }),
      KubeConfigError,
      'contexts: expected an entry named "three", found "one", "two"',
    );
  });
});

Deno.test("loadKubeConfig takes the first existing file of a KUBECONFIG list, else ~/.kube/config", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/second`, kubeconfig({ context: { namespace: "second" } }));
    await Deno.writeTextFile(`${dir}/third`, kubeconfig({ context: { namespace: "third" } }));
    const fromList = await loadKubeConfig({
      env: noEnv({ KUBECONFIG: `${dir}/missing:${dir}/second:${dir}/third` }),
    });
    assertEquals(fromList.namespace, "second");

    await Deno.mkdir(`${dir}/home/.kube`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/home/.kube/config`,
      kubeconfig({ context: { namespace: "home" } }),
    );
    const fromHome = await loadKubeConfig({ env: noEnv({ HOME: `${dir}/home` }) });
    assertEquals(fromHome.namespace, "home");

    await assertRejects(
      () => loadKubeConfig({ env: noEnv({ KUBECONFIG: `${dir}/missing` }) }),
      KubeConfigError,
      `kubeconfig: expected an existing file in KUBECONFIG, found none of ${dir}/missing`,
    );
  });
});

Deno.test("loadKubeConfig refuses what the client cannot honour, naming the field", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    const cases: [Doc, string][] = [
      [
        { user: { exec: { command: "aws" } } },
        "users[admin].user.exec: exec credential plugins are not supported; use token, tokenFile or client-certificate",
      ],
      [
        { user: { "auth-provider": { name: "oidc" } } },
        "users[admin].user.auth-provider: auth-provider plugins are not supported; use token, tokenFile or client-certificate",
      ],
      [
        { user: { username: "admin", password: "pw" } },
        "users[admin].user.username: basic authentication is not supported; use token, tokenFile or client-certificate",
      ],
      [
        { user: { as: "someone" } },
        "users[admin].user.as: impersonation is not supported",
      ],
      [
        { cluster: { "tls-server-name": "kubernetes" } },
        "clusters[c1].cluster.tls-server-name: Deno's fetch cannot override the TLS server name; set server to a URL whose host is in the certificate",
      ],
      [
        { cluster: { "insecure-skip-tls-verify": true } },
        "clusters[c1].cluster.insecure-skip-tls-verify: Deno's fetch cannot skip TLS verification per client; set certificate-authority(-data), or run deno with --unsafely-ignore-certificate-errors and allowInsecureSkipTlsVerify",
      ],
      [
        {
          cluster: {
            "certificate-authority-data": undefined,
            "certificate-authority": "/x/ca.crt",
          },
        },
        "clusters[c1].cluster.certificate-authority: cannot read /x/ca.crt: No such file",
      ],
      [
        { user: { "client-certificate": "missing.crt", "client-key-data": b64(KEY) } },
        `users[admin].user.client-certificate: cannot read ${dir}/missing.crt: No such file`,
      ],
      [
        { user: { "client-key-data": b64(KEY) } },
        "users[admin].user.client-certificate: expected client-certificate or client-certificate-data together with client-key, found none",
      ],
      [
        { cluster: { "certificate-authority-data": b64("not a pem") } },
        'clusters[c1].cluster.certificate-authority-data: expected PEM certificates ("-----BEGIN ..."), found none',
      ],
      [
        { cluster: { "certificate-authority-data": "%%%" } },
        "clusters[c1].cluster.certificate-authority-data: expected base64 data, found 3 characters that are not base64",
      ],
      [
        { cluster: { server: "127.0.0.1:6443" } },
        'clusters[c1].cluster.server: expected an http(s) URL, found "127.0.0.1:6443"',
      ],
      [
        { user: { tokenFile: "no-token" } },
        `users[admin].user.tokenFile: cannot read ${dir}/no-token: No such file`,
      ],
      [
        { context: { cluster: "c9" } },
        'contexts[admin@c1].context.cluster: expected an entry named "c9", found "c1"',
      ],
      [
        { extra: { "current-context": "" } },
        `current-context: expected the name of a context in ${path}, found none; pass a context name`,
      ],
    ];
    for (const [doc, message] of cases) {
      await Deno.writeTextFile(path, kubeconfig(doc));
      await expectConfigError(path, message);
    }
  });
});

Deno.test("loadKubeConfig reports schema violations with the named field path", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ cluster: { server: 6443 } }));
    const error = await assertRejects(
      () => loadKubeConfig({ path, env: noEnv() }),
      KubeConfigError,
    );
    assertEquals(error.field, "clusters[c1].cluster.server");
    assertStringIncludes(error.message, "expected string");

    await Deno.writeTextFile(path, "clusters: [unterminated");
    await assertRejects(
      () => loadKubeConfig({ path, env: noEnv() }),
      KubeConfigError,
      `kubeconfig: expected YAML in ${path}, found a syntax error`,
    );
  });
});

Deno.test("loadKubeConfig accepts insecure-skip-tls-verify only when allowed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(
      path,
      kubeconfig({
        cluster: { "insecure-skip-tls-verify": true, "certificate-authority-data": undefined },
      }),
    );
    const config = await loadKubeConfig({ path, allowInsecureSkipTlsVerify: true, env: noEnv() });
    assertEquals(config.insecureSkipTlsVerify, true);
    assertEquals(config.caPem, undefined);
  });
});

Deno.test("error messages of kubeconfig failures never contain the token", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/config`;
    await Deno.writeTextFile(path, kubeconfig({ user: { exec: {} } }));
    const error = await assertRejects(
      () => loadKubeConfig({ path, env: noEnv() }),
      KubeConfigError,
    );
    assertEquals(error.message.includes("secret-token"), false);
  });
});
