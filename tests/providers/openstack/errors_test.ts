import {
  faultOf,
  OpenStackHttpError,
  toProviderError,
} from "../../../providers/openstack/errors.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../../lib/provider.ts";
import { assertEquals, assertInstanceOf, assertMatch } from "../../_harness/assert.ts";

function http(status: number, body: unknown, service = "compute"): OpenStackHttpError {
  return new OpenStackHttpError({
    service,
    operation: "POST /servers",
    status,
    fault: faultOf(body, JSON.stringify(body)),
    requestId: "req-1",
  });
}

Deno.test("faults of Nova, Keystone, Neutron, Glance and Placement are read, raw text otherwise", () => {
  assertEquals(
    faultOf({ itemNotFound: { code: 404, message: "Instance x could not be found." } }, ""),
    {
      name: "itemNotFound",
      message: "Instance x could not be found.",
    },
  );
  assertEquals(faultOf({ error: { code: 401, title: "Unauthorized", message: "nope" } }, ""), {
    name: "Unauthorized",
    message: "nope",
  });
  assertEquals(faultOf({ NeutronError: { type: "NetworkNotFound", message: "no net" } }, ""), {
    name: "NetworkNotFound",
    message: "no net",
  });
  assertEquals(
    faultOf({ errors: [{ status: 403, title: "Forbidden", detail: "policy" }] }, "").message,
    "policy",
  );
  assertEquals(
    faultOf(undefined, "<html><body>502 Bad Gateway</body></html>").message,
    "502 Bad Gateway",
  );
});

Deno.test("a quota refusal is ResourceExhaustedError (quota), with Nova's message and the request id", () => {
  const error = toProviderError(
    http(403, {
      forbidden: {
        code: 403,
        message: "Quota exceeded for cores: Requested 2, but already used 10 of 10 cores",
      },
    }),
    "creating the server of pod default/web",
  );
  assertInstanceOf(error, ResourceExhaustedError);
  assertEquals((error as ResourceExhaustedError).resource, "quota");
  assertMatch(
    (error as Error).message,
    /^creating the server of pod default\/web: compute POST \/servers answered 403 forbidden: Quota exceeded.*\(request req-1\)$/,
  );
});

Deno.test("bad request and policy are InvalidInputError, 404 NotFound or InvalidInput, 401 Unauthenticated, the rest Unavailable", () => {
  assertInstanceOf(
    toProviderError(http(400, { badRequest: { message: "Flavor x could not be found." } }), "w"),
    InvalidInputError,
  );
  const policy = toProviderError(
    http(403, {
      forbidden: {
        message:
          "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed.",
      },
    }),
    "w",
  );
  assertInstanceOf(policy, InvalidInputError);
  assertMatch((policy as Error).message, /policy does not let these credentials/);
  assertInstanceOf(
    toProviderError(http(404, { itemNotFound: { message: "x" } }), "w"),
    NotFoundError,
  );
  assertInstanceOf(
    toProviderError(http(404, {}), "w", { notFound: "invalid-input" }),
    InvalidInputError,
  );
  assertInstanceOf(toProviderError(http(401, {}), "w"), UnauthenticatedError);
  assertInstanceOf(
    toProviderError(http(409, { conflictingRequest: { message: "busy" } }), "w"),
    UnavailableError,
  );
  assertInstanceOf(toProviderError(http(500, {}), "w"), UnavailableError);
  const other = new Error("plain");
  assertEquals(toProviderError(other, "w"), other);
});
