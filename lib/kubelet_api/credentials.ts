/**
 * What a `node:https` request tells about its caller before authentication: the bearer token
 * of the `Authorization` header and the client certificate of the TLS connection (subject
 * CN and O, and whether it chains to the client CA). Plain requests and upgrades share it.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Credentials, PeerCertificate } from "./auth.ts";

/** Options of {@linkcode credentialsOf}. */
export interface CredentialsOptions {
  /** Whether client certificates were requested (a client CA is configured). */
  clientCertificates: boolean;
}

function firstOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

function allOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item) => typeof item === "string");
  return [];
}

/** The bearer token of an `Authorization: Bearer …` header, if it has that form. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

/** The credentials `req` carries: its bearer token and, when requested, its client certificate. */
export function credentialsOf(req: IncomingMessage, options: CredentialsOptions): Credentials {
  const credentials: Credentials = {};
  const bearer = bearerTokenOf(req.headers.authorization);
  if (bearer !== undefined) credentials.bearerToken = bearer;
  if (options.clientCertificates) {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate?.();
    // Node types say string, but repeated attributes (several O) arrive as arrays.
    const subject = peer?.subject;
    if (subject) {
      const certificate: PeerCertificate = {
        verified: socket.authorized === true,
        commonName: firstOf(subject.CN),
        organizations: allOf(subject.O),
      };
      if (socket.authorizationError) certificate.error = String(socket.authorizationError);
      credentials.certificate = certificate;
    }
  }
  return credentials;
}
