import assert from "node:assert/strict";
import {
  createCertificateAuthority,
  generateServingCertificate,
  issueCertificate,
  pemBlocks,
} from "../../../lib/kubelet_api/tls.ts";

async function opensslAvailable(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

async function openssl(args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("openssl", { args }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.ok(success, `openssl ${args.join(" ")} failed: ${text}`);
  return text;
}

Deno.test("generated serving certificate carries leaf then CA and the requested SANs", async () => {
  const serving = await generateServingCertificate("edge-node-1", {
    ipAddresses: ["192.0.2.7", "::1"],
    dnsNames: ["edge-node-1.example"],
  });
  assert.equal(pemBlocks(serving.certPem, "CERTIFICATE").length, 2);
  assert.equal(pemBlocks(serving.keyPem, "PRIVATE KEY").length, 1);
  assert.ok(serving.certPem.endsWith(serving.caPem));
  if (!(await opensslAvailable())) return;
  const dir = await Deno.makeTempDir();
  try {
    const [leaf] = serving.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    await Deno.writeTextFile(`${dir}/leaf.pem`, leaf);
    await Deno.writeTextFile(`${dir}/ca.pem`, serving.caPem);
    assert.match(await openssl(["verify", "-CAfile", `${dir}/ca.pem`, `${dir}/leaf.pem`]), /OK/);
    const text = await openssl(["x509", "-in", `${dir}/leaf.pem`, "-noout", "-text"]);
    assert.match(
      text,
      /DNS:edge-node-1, DNS:edge-node-1\.example, IP Address:192\.0\.2\.7, IP Address:0:0:0:0:0:0:0:1/,
    );
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /CA:FALSE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a CA-issued client certificate names the user in CN and groups in O", async () => {
  const ca = await createCertificateAuthority("clients");
  const client = await issueCertificate(ca, {
    subject: { commonName: "alice", organizations: ["devs", "system:masters"] },
    usages: ["client"],
  });
  if (!(await opensslAvailable())) return;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/client.pem`, client.certPem);
    await Deno.writeTextFile(`${dir}/ca.pem`, ca.certPem);
    assert.match(
      await openssl([
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        `${dir}/ca.pem`,
        `${dir}/client.pem`,
      ]),
      /OK/,
    );
    assert.match(
      await openssl(["x509", "-in", `${dir}/client.pem`, "-noout", "-subject"]),
      /O = devs, O = system:masters, CN = alice/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issuing with a key that is not ECDSA P-256 PKCS #8 explains what was expected", async () => {
  const ca = await createCertificateAuthority("clients");
  await assert.rejects(
    issueCertificate({ certPem: ca.certPem, keyPem: "nonsense" }, {
      subject: { commonName: "x" },
      usages: ["client"],
    }),
    /expected a PEM PRIVATE KEY/,
  );
});
