/**
 * A kubelet API server over real HTTPS for the tests of this folder: a serving CA, a client
 * CA with users (alice may do everything, mallory nothing, stranger's CA is not trusted),
 * a token reviewer that knows "good-token" (bob), an authorizer that records what it was
 * asked, and a raw TLS client for upgrade requests.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  createAuthenticator,
  createWebhookAuthorizer,
  type NodeAccessAttributes,
} from "../../../lib/kubelet_api/auth.ts";
import type { Route } from "../../../lib/kubelet_api/routes.ts";
import type { StreamingOptions } from "../../../lib/kubelet_api/streaming.ts";
import { KubeletApiServer } from "../../../lib/kubelet_api/server.ts";
import {
  type CertificateAndKey,
  createCertificateAuthority,
  issueCertificate,
} from "../../../lib/kubelet_api/tls.ts";
import type { Provider } from "../../../lib/provider.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider } from "../../../providers/mock/mock_provider.ts";

/** Node name the fixture's server serves. */
export const nodeName = "vk-test-node";

/** Certificates of the fixture. */
export interface Pki {
  servingCa: CertificateAndKey;
  serving: CertificateAndKey;
  clientCa: CertificateAndKey;
  alice: CertificateAndKey;
  mallory: CertificateAndKey;
  stranger: CertificateAndKey;
}

/** Who calls: a client certificate of the fixture, or none. */
export type Caller = keyof Pki | "none";

let pkiPromise: Promise<Pki> | undefined;

/** The fixture's certificates, made once per test module. */
export function pki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const servingCa = await createCertificateAuthority("serving-ca");
    const clientCa = await createCertificateAuthority("client-ca");
    const otherCa = await createCertificateAuthority("other-ca");
    return {
      servingCa,
      serving: await issueCertificate(servingCa, {
        subject: { commonName: nodeName },
        usages: ["server"],
        ipAddresses: ["127.0.0.1"],
      }),
      clientCa,
      alice: await issueCertificate(clientCa, {
        subject: { commonName: "alice", organizations: ["system:masters"] },
        usages: ["client"],
      }),
      mallory: await issueCertificate(clientCa, {
        subject: { commonName: "mallory" },
        usages: ["client"],
      }),
      stranger: await issueCertificate(otherCa, {
        subject: { commonName: "alice" },
        usages: ["client"],
      }),
    };
  })();
  return pkiPromise;
}

/** A pod of the fixture's node with the given containers. */
export function makePod(name: string, containers: string[]): Pod {
  return {
    metadata: { namespace: "default", name, uid: `uid-${name}` },
    spec: {
      nodeName,
      containers: containers.map((c) => ({ name: c, image: `nginx:${c}` })),
    },
  };
}

/** A mock provider for the fixture's node. */
export function mockProvider(config: Record<string, unknown> = {}): MockProvider {
  return new MockProvider(parseMockConfig(config), {
    nodeName,
    operatingSystem: "linux",
    internalIp: "127.0.0.1",
    daemonPort: 10250,
  });
}

/** A provider with only the required interfaces (pods kept in a list), plus `extra` methods. */
export function bareProvider(extra: Record<string, unknown> = {}): Provider {
  const pods: Pod[] = [];
  return {
    name: "bare",
    createPod: (pod) => Promise.resolve(void pods.push(pod)),
    updatePod: () => Promise.resolve(),
    deletePod: () => Promise.resolve(),
    getPod: () => Promise.resolve(undefined),
    getPodStatus: () => Promise.resolve(undefined),
    getPods: () => Promise.resolve(pods),
    ping: () => Promise.resolve(),
    configureNode: (node: Node) => Promise.resolve(node),
    ...extra,
  };
}

/** A started server and ways to call it. */
export interface Fixture {
  url: string;
  port: number;
  server: KubeletApiServer;
  provider: Provider;
  asked: NodeAccessAttributes[];
  client(who?: Caller): Deno.HttpClient;
  get(path: string, options?: { who?: Caller; token?: string }): Promise<Response>;
  close(): Promise<void>;
}

/** Starts a server on a free port of 127.0.0.1. */
export async function startServer(
  options: {
    provider?: Provider;
    anonymousAuth?: boolean;
    routes?: Route[];
    streaming?: StreamingOptions;
  } = {},
): Promise<Fixture> {
  const certs = await pki();
  const provider = options.provider ?? mockProvider();
  const asked: NodeAccessAttributes[] = [];
  const server = new KubeletApiServer({
    nodeName,
    provider,
    tls: certs.serving,
    clientCaPem: certs.clientCa.certPem,
    routes: options.routes,
    streaming: options.streaming,
    authenticator: createAuthenticator({
      anonymousAuth: options.anonymousAuth,
      tokenReview: (token) =>
        Promise.resolve(
          token === "good-token"
            ? { authenticated: true, user: { name: "bob", groups: ["devs"] } }
            : { authenticated: false, reason: "unknown token" },
        ),
    }),
    authorizer: createWebhookAuthorizer((attributes) => {
      asked.push(attributes);
      const allowed = attributes.user !== "mallory" && attributes.user !== "system:anonymous";
      return Promise.resolve({ allowed, reason: allowed ? "" : "RBAC: no rule for you" });
    }),
  });
  const { port } = await server.start({ port: 0, hostname: "127.0.0.1" });
  const clients: Deno.HttpClient[] = [];
  const fixture: Fixture = {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    provider,
    asked,
    client(who = "alice") {
      const identity = who === "none" ? undefined : certs[who];
      const client = Deno.createHttpClient({
        caCerts: [certs.servingCa.certPem],
        ...(identity === undefined ? {} : { cert: identity.certPem, key: identity.keyPem }),
      });
      clients.push(client);
      return client;
    },
    get(path, { who = "alice", token } = {}) {
      return fetch(`${fixture.url}${path}`, {
        client: fixture.client(who),
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    },
    async close() {
      await server.close();
      for (const client of clients) client.close();
    },
  };
  return fixture;
}
