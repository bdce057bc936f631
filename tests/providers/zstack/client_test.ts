import { createHash, createHmac } from "node:crypto";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../../lib/provider.ts";
import {
  inventoryReplySchema,
  queryReplySchema,
  vmInstanceSchema,
  zoneOrClusterSchema,
} from "../../../providers/zstack/api_types.ts";
import {
  rewriteJobLocation,
  toProviderError,
  ZStackApiError,
  ZStackClient,
  type ZStackClientOptions,
  ZStackHttpError,
} from "../../../providers/zstack/client.ts";
import { json, type Received, startReplayServer, text } from "./_replay_server.ts";

const signal = new AbortController().signal;
const vm = {
  uuid: "a1b2c3d4e5f60718293a4b5c6d7e8f90",
  name: "vm1",
  state: "Running",
  cpuNum: 1.0,
  memorySize: 8.589934592E9,
  createDate: "Jun 7, 2017 9:20:28 PM",
  vmNics: [{ ip: "10.0.0.5", l3NetworkUuid: "l3" }],
};
const loginReply = {
  inventory: {
    uuid: "5e0b4ecbd5e04e3aa2f8b2f6c8b4a7a1",
    accountUuid: "36c27e8ff05c4780bf6d2fa65700f22e",
    userUuid: "36c27e8ff05c4780bf6d2fa65700f22e",
    expiredDate: "Nov 25, 2026 12:00:00 PM",
    createDate: "Nov 25, 2026 10:00:00 AM",
  },
};
const invalidSession = {
  error: {
    code: "ID.1001",
    description: "The session is invalid, either wrong session id or the session has been expired",
    details: "Session expired",
  },
};

function client(url: string, extra: Partial<ZStackClientOptions> = {}): ZStackClient {
  return new ZStackClient({
    endpoint: url,
    credentials: { kind: "account", accountName: "admin", password: "password" },
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 20,
    maxPollIntervalMs: 20,
    ...extra,
  });
}

function isLogin(request: Received): boolean {
  return request.method === "PUT" && request.path === "/v1/accounts/login";
}

Deno.test("client logs in with the SHA-512 hex password and sends the session as OAuth", async () => {
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    return json(200, { inventories: [{ uuid: "z1", name: "zone-1" }], schema: {} });
  });
  try {
    const zones = await client(server.url).get(
      "/v1/zones",
      "limit=1",
      queryReplySchema(zoneOrClusterSchema),
      signal,
    );
    assertEquals(zones.inventories.map((zone) => zone.name), ["zone-1"]);
    const [login, query] = server.received;
    assertEquals(login.body, {
      logInByAccount: {
        accountName: "admin",
        password: createHash("sha512").update("password").digest("hex"),
      },
    });
    assertEquals(query.headers.get("Authorization"), `OAuth ${loginReply.inventory.uuid}`);
    assertEquals(query.search, "?limit=1");
  } finally {
    await server.close();
  }
});

Deno.test("client parses doubles and Gson dates leniently", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : json(200, { inventories: [vm], schema: {} })
  );
  try {
    const reply = await client(server.url).get(
      "/v1/vm-instances",
      "",
      queryReplySchema(vmInstanceSchema),
      signal,
    );
    const [parsed] = reply.inventories;
    assertEquals(parsed.memorySize, 8589934592);
    assertEquals(parsed.cpuNum, 1);
    assertEquals(parsed.createDate?.toISOString(), "2017-06-07T21:20:28.000Z");
    assertEquals(parsed.vmNics[0].usedIps, []);
  } finally {
    await server.close();
  }
});

Deno.test("async call polls the job at the configured endpoint, not the location's internal host", async () => {
  let polls = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "POST") {
      const job = request.headers.get("X-Job-UUID");
      return json(202, {
        location: `http://127.0.0.2:9/zstack/v1/api-jobs/${job}`,
        apiTimeout: 43200000,
      });
    }
    if (request.path.startsWith("/v1/api-jobs/")) {
      polls++;
      return polls < 3 ? json(202, {}) : json(200, { inventory: vm });
    }
    return text(404, `no api mapping to ${request.path}`);
  });
  try {
    const reply = await client(server.url).call(
      "POST",
      "/v1/vm-instances",
      { params: { name: "vm1" } },
      inventoryReplySchema(vmInstanceSchema),
      { signal },
    );
    assertEquals(reply.inventory.uuid, vm.uuid);
    assertEquals(polls, 3);
    const submit = server.received.find((request) => request.method === "POST")!;
    const job = submit.headers.get("X-Job-UUID") ?? "";
    assertMatch(job, /^[0-9a-f]{32}$/);
    const pollPaths = server.received.filter((request) => request.path.includes("api-jobs"))
      .map((request) => request.path);
    assertEquals(pollPaths, Array(3).fill(`/v1/api-jobs/${job}`));
  } finally {
    await server.close();
  }
});

Deno.test("rewriteJobLocation keeps the job path and swaps scheme, host, port and context", () => {
  assertEquals(
    rewriteJobLocation(
      "http://172.20.0.2:8080/zstack/v1/api-jobs/0123456789abcdef0123456789abcdef",
      "https://zstack.example.com/zstack/",
    ),
    "https://zstack.example.com/zstack/v1/api-jobs/0123456789abcdef0123456789abcdef",
  );
  assertEquals(
    rewriteJobLocation("http://10.0.0.1:8989/v1/api-jobs/x", "http://127.0.0.1:1234"),
    "http://127.0.0.1:1234/v1/api-jobs/x",
  );
});

Deno.test("a failed job (503 on the poll) becomes ZStackApiError and maps to the contract", async () => {
  const failures: Record<string, unknown> = {
    "invalid": {
      code: "SYS.1007",
      description: "One or more API argument is invalid",
      details:
        "field[name] of message[org.zstack.header.vm.APICreateVmInstanceMsg] is mandatory, can not be null",
    },
    "missing": {
      code: "SYS.1003",
      description: "A resource can not be found",
      details: "invalid field[uuid], resource[uuid:abc, type:VmInstanceVO] not found",
    },
    "capacity": {
      code: "SYS.1006",
      description: "An operation failed",
      details: "unable to allocate a host",
      cause: { code: "HOST_ALLOCATION.1000", description: "No available host found" },
    },
    "state": {
      code: "SYS.1006",
      description: "An operation failed",
      cause: {
        code: "VM.1010",
        details:
          "current vm instance state[Destroyed] doesn't allow to proceed message[org.zstack.header.vm.APIStartVmInstanceMsg]",
      },
    },
  };
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "PUT") {
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${request.headers.get("X-Job-UUID")}`,
      });
    }
    const which = server.received.findLast((r) => r.method === "PUT")?.body as {
      startVmInstance: { which: string };
    };
    return json(503, { error: failures[which.startVmInstance.which] });
  });
  const zstack = client(server.url);
  async function failure(which: string): Promise<unknown> {
    const error = await assertRejects(() =>
      zstack.call(
        "PUT",
        "/v1/vm-instances/abc/actions",
        { startVmInstance: { which } },
        inventoryReplySchema(vmInstanceSchema),
        { signal },
      )
    );
    assertInstanceOf(error, ZStackApiError);
    return toProviderError(error, "starting VM abc");
  }
  try {
    const invalid = await failure("invalid");
    assertInstanceOf(invalid, InvalidInputError);
    assertStringIncludes(
      invalid.message,
      "starting VM abc: PUT /v1/vm-instances/abc/actions failed: SYS.1007 field[name]",
    );
    assertInstanceOf(await failure("missing"), NotFoundError);
    const capacity = await failure("capacity");
    assertInstanceOf(capacity, ResourceExhaustedError);
    assertEquals(capacity.resource, "capacity");
    assertEquals(capacity.retryable, true);
    assertStringIncludes(capacity.message, "HOST_ALLOCATION.1000");
    const state = await failure("state");
    assertInstanceOf(state, UnavailableError);
    assertStringIncludes(state.message, "cause VM.1010 current vm instance state[Destroyed]");
    const noHost = toProviderError(
      new ZStackApiError("POST /v1/vm-instances", 503, {
        code: "SYS.1006",
        details: "no host having cpu[64], memory[1099511627776 bytes] found",
      }),
      "creating",
    );
    assertInstanceOf(noHost, ResourceExhaustedError);
    assertEquals(noHost.resource, "capacity");
    const quota = toProviderError(
      new ZStackApiError("POST /v1/vm-instances", 503, {
        code: "SYS.1006",
        cause: { code: "ID.1003", description: "quota exceeding" },
      } as never),
      "creating",
    );
    assertInstanceOf(quota, ResourceExhaustedError);
    assertEquals(quota.resource, "quota");
    const asInput = toProviderError(
      new ZStackApiError("POST /v1/vm-instances", 503, failures.missing as never),
      "creating",
      { notFound: "invalid-input" },
    );
    assertInstanceOf(asInput, InvalidInputError);
  } finally {
    await server.close();
  }
});

Deno.test("ID.1001 on a GET logs in again and repeats the GET once", async () => {
  let logins = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) {
      logins++;
      return json(200, {
        inventory: { ...loginReply.inventory, uuid: `session${logins}`.padEnd(32, "0") },
      });
    }
    if (request.headers.get("Authorization") === `OAuth ${"session1".padEnd(32, "0")}`) {
      return json(503, invalidSession);
    }
    return json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url);
    const reply = await zstack.get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal);
    assertEquals(reply.inventories, []);
    assertEquals(logins, 2);
    assertEquals(zstack.stats().logins, 2);
  } finally {
    await server.close();
  }
});

Deno.test("ID.1001 on the poll of an async call logs in again and submits anew with a new job uuid", async () => {
  let logins = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) {
      logins++;
      return json(200, {
        inventory: { ...loginReply.inventory, uuid: `s${logins}`.padEnd(32, "0") },
      });
    }
    if (request.method === "DELETE") {
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${request.headers.get("X-Job-UUID")}`,
      });
    }
    // The poll answers for the session the job was submitted with.
    const submit = server.received.findLast((r) => r.method === "DELETE")!;
    return submit.headers.get("Authorization") === `OAuth ${"s1".padEnd(32, "0")}`
      ? json(503, invalidSession)
      : json(200, {});
  });
  try {
    await client(server.url).call(
      "DELETE",
      "/v1/vm-instances/abc",
      undefined,
      inventoryReplySchema(vmInstanceSchema).partial(),
      {
        query: "deleteMode=Permissive",
        signal,
      },
    );
    const submits = server.received.filter((r) => r.method === "DELETE");
    assertEquals(submits.length, 2);
    assertEquals(submits[0].search, "?deleteMode=Permissive");
    assert(submits[0].headers.get("X-Job-UUID") !== submits[1].headers.get("X-Job-UUID"));
    assertEquals(logins, 2);
  } finally {
    await server.close();
  }
});

Deno.test("a 503 without an ErrorCode (proxy, starting server) is retried with backoff", async () => {
  let queries = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    queries++;
    return queries <= 2
      ? text(503, "Service Unavailable")
      : json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url);
    await zstack.get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal);
    assertEquals(queries, 3);
    assertEquals(zstack.stats().retries, 2);
  } finally {
    await server.close();
  }
});

Deno.test("an unreachable endpoint gives UnavailableError naming it after the retries", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const endpoint = `http://127.0.0.1:${port}/zstack`;
  const zstack = client(endpoint, { retries: 2 });
  const error = await assertRejects(
    () => zstack.get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal),
    UnavailableError,
  );
  assertStringIncludes(error.message, endpoint);
  assertStringIncludes(error.message, "after 3 attempts");
});

Deno.test("plain-text 400 is a ZStackHttpError mapped to InvalidInputError; an expired job is UnavailableError", async () => {
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "GET" && !request.path.includes("api-jobs")) {
      return text(400, "[cpuNum] field is excepted an int or long, but was [x].");
    }
    if (request.method === "POST") {
      return json(202, { location: "http://mn/zstack/v1/api-jobs/dead" });
    }
    return text(404, "the job has been expired");
  });
  try {
    const zstack = client(server.url);
    const bad = await assertRejects(
      () =>
        zstack.get("/v1/vm-instances", "q=cpuNum=x", queryReplySchema(vmInstanceSchema), signal),
      ZStackHttpError,
    );
    assertEquals(bad.status, 400);
    assertInstanceOf(toProviderError(bad, "querying"), InvalidInputError);
    const expired = await assertRejects(
      () =>
        zstack.call("POST", "/v1/vm-instances", {}, inventoryReplySchema(vmInstanceSchema), {
          signal,
        }),
      UnavailableError,
    );
    assertStringIncludes(expired.message, "the job has been expired");
  } finally {
    await server.close();
  }
});

Deno.test("a submission whose answer was lost is found again through 'Duplicate job uuid'", async () => {
  let submits = 0;
  const server = startReplayServer(async (request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "POST") {
      submits++;
      if (submits === 1) {
        await new Promise((resolve) => setTimeout(resolve, 300)); // accepted, answer too late
        return json(202, { location: "http://mn/zstack/v1/api-jobs/late" });
      }
      return text(400, `Duplicate job uuid[${request.headers.get("X-Job-UUID")}]`);
    }
    return json(200, { inventory: vm });
  });
  try {
    const reply = await client(server.url, { requestTimeoutMs: 100 }).call(
      "POST",
      "/v1/vm-instances",
      { params: {} },
      inventoryReplySchema(vmInstanceSchema),
      { signal },
    );
    assertEquals(reply.inventory.uuid, vm.uuid);
    const [first, second] = server.received.filter((r) => r.method === "POST");
    assertEquals(first.headers.get("X-Job-UUID"), second.headers.get("X-Job-UUID"));
    const poll = server.received.find((r) => r.path.startsWith("/v1/api-jobs/"))!;
    assertEquals(poll.path, `/v1/api-jobs/${first.headers.get("X-Job-UUID")}`);
  } finally {
    await server.close();
  }
});

Deno.test("no more requests are in flight than maxConcurrentRequests", async () => {
  let inFlight = 0;
  let most = 0;
  const server = startReplayServer(async (request) => {
    if (isLogin(request)) return json(200, loginReply);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 30));
    inFlight--;
    return json(200, { inventories: [], schema: {} });
  });
  try {
    const zstack = client(server.url, { maxConcurrentRequests: 2 });
    await Promise.all(
      Array.from(
        { length: 7 },
        () => zstack.get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal),
      ),
    );
    assertEquals(most, 2);
    assertEquals(zstack.stats().maxInFlight, 2);
    assertEquals(zstack.stats().inFlight, 0);
  } finally {
    await server.close();
  }
});

Deno.test("wrong credentials (503 ID.1000) give UnavailableError naming account and endpoint", async () => {
  const server = startReplayServer(() =>
    json(503, {
      error: {
        code: "ID.1000",
        description: "Unable to authenticate a user",
        details: "wrong account name or password",
      },
    })
  );
  try {
    const error = await assertRejects(
      () => client(server.url).get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal),
      UnavailableError,
    );
    assertStringIncludes(error.message, `ZStack at ${server.url}: login of account "admin" failed`);
    assertStringIncludes(error.message, "wrong account name or password");
  } finally {
    await server.close();
  }
});

Deno.test("AccessKey requests carry Date and an HMAC-SHA1 signature of method, date and /v1 path", async () => {
  const server = startReplayServer(() => json(200, { inventories: [], schema: {} }));
  try {
    const zstack = new ZStackClient({
      endpoint: server.url,
      credentials: { kind: "accessKey", accessKeyId: "KEYID", accessKeySecret: "s3cret" },
    });
    await zstack.get("/v1/zones", "q=name=zone-1", queryReplySchema(zoneOrClusterSchema), signal);
    const [request] = server.received;
    const date = request.headers.get("Date") ?? "";
    assertMatch(date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const expected = createHmac("sha1", "s3cret").update(`GET\n${date}\n/v1/zones`).digest(
      "base64",
    );
    assertEquals(request.headers.get("Authorization"), `ZStack KEYID:${expected}`);
  } finally {
    await server.close();
  }
});

Deno.test("a reply of the wrong shape is UnavailableError naming the field", async () => {
  const server = startReplayServer((request) =>
    isLogin(request) ? json(200, loginReply) : json(200, { inventories: [{ name: "no uuid" }] })
  );
  try {
    const error = await assertRejects(
      () => client(server.url).get("/v1/zones", "", queryReplySchema(zoneOrClusterSchema), signal),
      UnavailableError,
    );
    assertStringIncludes(error.message, `field "inventories.0.uuid"`);
  } finally {
    await server.close();
  }
});

Deno.test("a poll answered 503 SYS.1012 (management node unavailable) is asked again", async () => {
  let polls = 0;
  const server = startReplayServer((request) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "PUT") {
      return json(202, {
        location: `http://mn/zstack/v1/api-jobs/${request.headers.get("X-Job-UUID")}`,
      });
    }
    polls++;
    return polls === 1
      ? json(503, {
        error: { code: "SYS.1012", description: "The management node is unavailable" },
      })
      : json(200, { inventory: vm });
  });
  try {
    const reply = await client(server.url).call(
      "PUT",
      `/v1/vm-instances/${vm.uuid}/actions`,
      { startVmInstance: {} },
      inventoryReplySchema(vmInstanceSchema),
      { signal },
    );
    assertEquals(reply.inventory.state, "Running");
    assertEquals(polls, 2);
  } finally {
    await server.close();
  }
});
