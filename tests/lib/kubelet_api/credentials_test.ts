import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { bearerTokenOf, credentialsOf } from "../../../lib/kubelet_api/credentials.ts";

function incoming(
  headers: Record<string, string>,
  socket: Record<string, unknown>,
): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage;
}

Deno.test("credentials: a bearer token is taken only from a well-formed Authorization header", () => {
  assert.equal(bearerTokenOf("Bearer abc.def"), "abc.def");
  assert.equal(bearerTokenOf("bearer   xyz  "), "xyz");
  assert.equal(bearerTokenOf("Basic dXNlcg=="), undefined);
  assert.equal(bearerTokenOf("Bearer two words"), undefined);
  assert.equal(bearerTokenOf(undefined), undefined);
});

Deno.test("credentials: the client certificate's CN and every O, and whether it verified", () => {
  const socket = {
    getPeerCertificate: () => ({ subject: { CN: "alice", O: ["system:masters", "devs"] } }),
    authorized: true,
    authorizationError: null,
  };
  assert.deepEqual(
    credentialsOf(incoming({ authorization: "Bearer t" }, socket), { clientCertificates: true }),
    {
      bearerToken: "t",
      certificate: {
        verified: true,
        commonName: "alice",
        organizations: ["system:masters", "devs"],
      },
    },
  );
  const untrusted = {
    getPeerCertificate: () => ({ subject: { CN: "eve", O: "ops" } }),
    authorized: false,
    authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  };
  assert.deepEqual(credentialsOf(incoming({}, untrusted), { clientCertificates: true }), {
    certificate: {
      verified: false,
      commonName: "eve",
      organizations: ["ops"],
      error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    },
  });
});

Deno.test("credentials: without a client CA, or without a certificate, there is none", () => {
  const socket = { getPeerCertificate: () => ({ subject: { CN: "alice" } }), authorized: true };
  assert.deepEqual(credentialsOf(incoming({}, socket), { clientCertificates: false }), {});
  const none = { getPeerCertificate: () => ({}), authorized: false };
  assert.deepEqual(credentialsOf(incoming({}, none), { clientCertificates: true }), {});
});
