import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../../lib/provider.ts";
import { inventoryReplySchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import {
  describeErrorCode,
  toProviderError,
  ZStackApiError,
  ZStackHttpError,
} from "../../../providers/zstack/errors.ts";
import { client, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, startReplayServer } from "./_replay_server.ts";

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
      zstack.call("PUT", "/v1/vm-instances/abc/actions", {
        body: { startVmInstance: { which } },
        schema: inventoryReplySchema(vmInstanceSchema),
        signal,
      })
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

Deno.test("an ErrorCode reads with its causes; a plain-text answer says what came instead of JSON", () => {
  assertEquals(
    describeErrorCode({
      code: "SYS.1006",
      description: "An operation failed",
      causes: [
        { code: "VM.1010", details: "state Destroyed" },
        { code: "HOST.1001", description: "host disconnected" },
      ],
    }),
    "SYS.1006 An operation failed (cause VM.1010 state Destroyed; HOST.1001 host disconnected)",
  );
  const plain = new ZStackHttpError("GET /v1/zones", 405, "Method Not Allowed");
  assertEquals(
    plain.message,
    `GET /v1/zones: expected a JSON reply, found HTTP 405 "Method Not Allowed"`,
  );
  assertInstanceOf(toProviderError(plain, "listing zones"), UnavailableError);
  const other = new Error("something else");
  assertEquals(toProviderError(other, "listing zones"), other);
});
