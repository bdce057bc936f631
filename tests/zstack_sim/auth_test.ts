import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_harness/assert.ts";
import { Client, delay, withSim } from "./_client.ts";
import { accessKeySignature, ADMIN_ACCOUNT_UUID, ADMIN_PASSWORD_SHA512, sha512Hex } from "./mod.ts";

Deno.test("admin's stored password is sha512('password') as on a fresh installation", async () => {
  assertEquals(await sha512Hex("password"), ADMIN_PASSWORD_SHA512);
});

Deno.test("login by account with the SHA-512 hex password returns a session inventory", async () => {
  await withSim(async (client) => {
    const answer = await client.login();
    assertEquals(answer.status, 200);
    const session = answer.body.inventory;
    assertMatch(session.uuid, /^[0-9a-f]{32}$/);
    assertEquals(session.accountUuid, ADMIN_ACCOUNT_UUID);
    assertEquals(session.userUuid, ADMIN_ACCOUNT_UUID);
    assertMatch(session.createDate, /^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M$/);
    assertEquals(answer.headers.get("content-type"), null);
  });
});

Deno.test("a wrong or plaintext password is 503 ID.1000", async () => {
  await withSim(async (_client, sim) => {
    const client = new Client(sim);
    const wrong = await client.login("not-the-password");
    assertEquals(wrong.status, 503);
    assertEquals(wrong.body.error.code, "ID.1000");
    assertEquals(wrong.body.error.description, "Unable to authenticate a user");
    const plain = await client.raw("PUT", "/v1/accounts/login", {
      body: { logInByAccount: { accountName: "admin", password: "password" } },
      auth: false,
    });
    assertEquals(plain.status, 503);
    assertEquals(plain.body.error.code, "ID.1000");
  });
});

Deno.test("a missing Authorization header is 400 and another scheme is 400, both plain text", async () => {
  await withSim(async (client) => {
    const missing = await client.raw("GET", "/v1/zones", { auth: false });
    assertEquals([missing.status, missing.text], [400, "missing header 'Authorization'"]);
    const basic = await client.raw("GET", "/v1/zones", {
      auth: false,
      headers: { Authorization: "Basic YWRtaW46cGFzc3dvcmQ=" },
    });
    assertEquals([basic.status, basic.text], [400, "Authorization type must be 'OAuth'"]);
    const ok = await client.get("/v1/zones");
    assertEquals(ok.status, 200);
    assertEquals(ok.body.inventories.length, 1);
  });
});

Deno.test("an expired session is 503 ID.1001 on a GET and on the poll of an async call", async () => {
  await withSim(async (client) => {
    await delay(350);
    const query = await client.get("/v1/vm-instances");
    assertEquals(query.status, 503);
    assertEquals(query.body.error.code, "ID.1001");
    assertEquals(query.body.error.details, "Session expired");
    const accepted = await client.raw(
      "PUT",
      "/v1/vm-instances/0123456789abcdef0123456789abcdef/actions",
      {
        body: { startVmInstance: {} },
      },
    );
    assertEquals(accepted.status, 202);
    const polled = await client.poll(accepted.body.location);
    assertEquals(polled.status, 503);
    assertEquals(polled.body.error.code, "ID.1001");
    await client.login();
    assertEquals((await client.get("/v1/vm-instances")).status, 200);
  }, { sessionTimeoutSeconds: 0.3 });
});

Deno.test("renew extends a session, logout ends it, and valid reports it", async () => {
  await withSim(async (client) => {
    const session = client.session;
    const renewed = await client.call("PUT", `/v1/accounts/sessions/${session}/renew`, {
      renewSession: { duration: 3600 },
    });
    assertEquals(renewed.status, 200);
    assertEquals(renewed.body.inventory.uuid, session);
    await delay(350);
    assertEquals((await client.get("/v1/zones")).status, 200);
    const valid = await client.raw("GET", `/v1/accounts/sessions/${session}/valid`, {
      auth: false,
    });
    assertEquals(valid.body, { valid: true });
    const logout = await client.raw("DELETE", `/v1/accounts/sessions/${session}`, { auth: false });
    assertEquals([logout.status, logout.body], [200, {}]);
    assertEquals((await client.raw("GET", `/v1/accounts/sessions/${session}/valid`)).body, {
      valid: false,
    });
    assertEquals((await client.get("/v1/zones")).body.error.code, "ID.1001");
  }, { sessionTimeoutSeconds: 0.3 });
});

Deno.test("renewSession refuses a duration outside 60..31536000 with SYS.1007", async () => {
  await withSim(async (client) => {
    const answer = await client.call("PUT", `/v1/accounts/sessions/${client.session}/renew`, {
      renewSession: { duration: 5 },
    });
    assertEquals(answer.status, 503);
    assertEquals(answer.body.error.code, "SYS.1007");
  });
});

function rfc1123(date: Date): string {
  return date.toUTCString();
}

async function signed(
  url: string,
  uri: string,
  key: { AccessKeyID: string; AccessKeySecret: string },
  date = rfc1123(new Date()),
): Promise<Response> {
  const signature = await accessKeySignature(key.AccessKeySecret, "GET", date, uri);
  return await fetch(url + uri, {
    headers: { Date: date, Authorization: `ZStack ${key.AccessKeyID}:${signature}` },
  });
}

Deno.test("AccessKey-signed requests are authenticated by HMAC-SHA1 over method, Date and URI", async () => {
  await withSim(async (_client, sim) => {
    const key = sim.createAccessKey({ AccessKeyID: "AKTEST", AccessKeySecret: "s3cret" });
    const ok = await signed(sim.url, "/v1/zones", key);
    assertEquals(ok.status, 200);
    assertEquals(JSON.parse(await ok.text()).inventories.length, 1);

    const forged = await signed(sim.url, "/v1/zones", { ...key, AccessKeySecret: "wrong" });
    assertEquals(forged.status, 503);
    const error = JSON.parse(await forged.text()).error;
    assertEquals(error.code, "ID.1000");
    assertStringIncludes(error.details, "wrong accessKey signature");

    const unknown = await signed(sim.url, "/v1/zones", { ...key, AccessKeyID: "NOPE" });
    assertStringIncludes(JSON.parse(await unknown.text()).error.details, "access key id");

    const skewed = await signed(
      sim.url,
      "/v1/zones",
      key,
      rfc1123(new Date(Date.now() - 3600_000)),
    );
    assertEquals([skewed.status, await skewed.text()], [403, "requestTimeTooSkewed"]);

    const noDate = await fetch(`${sim.url}/v1/zones`, {
      headers: { Authorization: "ZStack AKTEST:abc" },
    });
    assertEquals(noDate.status, 400);
    await noDate.body?.cancel();
  });
});

Deno.test("an access key created over the API can sign requests", async () => {
  await withSim(async (client, sim) => {
    const created = await client.call("POST", "/v1/accesskeys", {
      params: { accountUuid: ADMIN_ACCOUNT_UUID, userUuid: ADMIN_ACCOUNT_UUID },
    });
    assertEquals(created.status, 200);
    const key = created.body.inventory;
    assert(key.AccessKeyID && key.AccessKeySecret);
    const answer = await signed(sim.url, "/v1/hosts", key);
    assertEquals(answer.status, 200);
    await answer.body?.cancel();
    assertEquals((await client.query("/v1/accesskeys")).length, 1);
  });
});
