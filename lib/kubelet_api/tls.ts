/**
 * X.509 certificates for the kubelet API, made with WebCrypto (ECDSA P-256, SHA-256) and a
 * small DER writer: a private CA, certificates it issues (serving and client), and the
 * self-signed serving certificate used when none is configured. The result is accepted by
 * rustls (Deno), OpenSSL (Node) and Go's crypto/tls (kube-apiserver).
 *
 * @module
 */

import {
  bitString,
  boolean,
  type Bytes,
  children,
  explicit,
  implicitPrimitive,
  namedBits,
  objectIdentifier,
  octetString,
  readElement,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./_der.ts";
import { errorMessage } from "../errors.ts";

/** A certificate (possibly followed by its chain) and its private key, both PEM. */
export interface CertificateAndKey {
  /** PEM `CERTIFICATE` block(s), leaf first. */
  certPem: string;
  /** PEM `PRIVATE KEY` (PKCS #8) block. */
  keyPem: string;
}

/** A serving certificate together with the CA that clients should trust for it. */
export interface ServingCertificate extends CertificateAndKey {
  /** PEM of the CA that issued the serving certificate. */
  caPem: string;
}

/** Distinguished name of a certificate as Kubernetes reads it. */
export interface CertificateSubject {
  /** CN: the user name of a client certificate. */
  commonName: string;
  /** O: the groups of a client certificate. */
  organizations?: string[];
}

/** What a certificate may be used for. */
export type CertificateUsage = "server" | "client";

/** Options of `issueCertificate`. */
export interface IssueCertificateOptions {
  /** Subject of the new certificate. */
  subject: CertificateSubject;
  /** Usages (extended key usage). */
  usages: CertificateUsage[];
  /** DNS names for the subjectAltName extension. */
  dnsNames?: string[];
  /** IPv4 or IPv6 addresses for the subjectAltName extension. */
  ipAddresses?: string[];
  /** Validity in days from now; default 365. */
  validityDays?: number;
}

const oids = {
  ecPublicKeyAlgorithm: "1.2.840.10045.2.1",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

const keyUsageBits = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };
const ecdsa = { name: "ECDSA", namedCurve: "P-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Bytes {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function toPem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Returns the DER contents of every PEM block labelled `label`, in order. */
export function pemBlocks(pem: string, label: string): Uint8Array<ArrayBuffer>[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`, "g");
  return [...pem.matchAll(pattern)].map((match) => fromBase64(match[1].replace(/\s+/g, "")));
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    return undefined;
  }
  return parts.map(Number);
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const words: number[] = [];
    const pieces = part.split(":");
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        words.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        words.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return words;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const words = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}

function ipAddressBytes(text: string): Uint8Array {
  const bytes = parseIpv4(text) ?? parseIpv6(text);
  if (bytes === undefined) {
    throw new Error(`expected an IPv4 or IPv6 address, found "${text}"`);
  }
  return Uint8Array.from(bytes);
}

function encodeName(subject: CertificateSubject): Uint8Array {
  const attribute = (oid: string, value: string) =>
    set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(
    ...(subject.organizations ?? []).map((org) => attribute(oids.organization, org)),
    attribute(oids.commonName, subject.commonName),
  );
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(
    objectIdentifier(oid),
    ...(critical ? [boolean(true)] : []),
    octetString(value),
  );
}

function rawSignatureToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

async function keyIdentifier(spki: Bytes): Promise<Bytes> {
  // RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents.
  const root = readElement(spki, 0);
  const [, publicKey] = children(spki, root);
  const bits = spki.subarray(publicKey.contentStart + 1, publicKey.end);
  return new Uint8Array(await crypto.subtle.digest("SHA-1", bits));
}

interface Issuer {
  name: Bytes;
  spki: Bytes;
  key: CryptoKey;
}

interface BuildOptions extends IssueCertificateOptions {
  isCa: boolean;
}

async function buildCertificate(
  keys: CryptoKeyPair,
  issuer: Issuer | undefined,
  options: BuildOptions,
): Promise<CertificateAndKey> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const subjectName = encodeName(options.subject);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const now = Date.now();
  const notBefore = new Date(Math.floor((now - 60 * 60 * 1000) / 1000) * 1000);
  const notAfter = new Date(
    Math.floor((now + (options.validityDays ?? 365) * dayMs) / 1000) * 1000,
  );
  const signatureAlgorithm = sequence(objectIdentifier(oids.ecdsaWithSha256));

  const extensions: Uint8Array[] = [
    extension(
      oids.keyUsage,
      true,
      namedBits(
        options.isCa
          ? [keyUsageBits.digitalSignature, keyUsageBits.keyCertSign, keyUsageBits.cRLSign]
          : [keyUsageBits.digitalSignature],
      ),
    ),
  ];
  if (options.usages.length > 0) {
    extensions.push(extension(
      oids.extKeyUsage,
      false,
      sequence(
        ...options.usages.map((usage) =>
          objectIdentifier(usage === "server" ? oids.serverAuth : oids.clientAuth)
        ),
      ),
    ));
  }
  extensions.push(
    extension(oids.basicConstraints, true, options.isCa ? sequence(boolean(true)) : sequence()),
  );
  extensions.push(
    extension(oids.subjectKeyIdentifier, false, octetString(await keyIdentifier(spki))),
  );
  if (issuer !== undefined) {
    extensions.push(extension(
      oids.authorityKeyIdentifier,
      false,
      sequence(implicitPrimitive(0, await keyIdentifier(issuer.spki))),
    ));
  }
  const alternativeNames = [
    ...(options.dnsNames ?? []).map((name) => implicitPrimitive(2, new TextEncoder().encode(name))),
    ...(options.ipAddresses ?? []).map((ip) => implicitPrimitive(7, ipAddressBytes(ip))),
  ];
  if (alternativeNames.length > 0) {
    extensions.push(extension(oids.subjectAltName, false, sequence(...alternativeNames)));
  }

  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    signatureAlgorithm,
    issuer?.name ?? subjectName,
    sequence(time(notBefore), time(notAfter)),
    subjectName,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signingKey = issuer?.key ?? keys.privateKey;
  const rawSignature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signingKey, tbs),
  );
  const certificate = sequence(tbs, signatureAlgorithm, bitString(rawSignatureToDer(rawSignature)));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { certPem: toPem("CERTIFICATE", certificate), keyPem: toPem("PRIVATE KEY", pkcs8) };
}

function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ecdsa, true, ["sign", "verify"]);
}

async function loadIssuer(issuer: CertificateAndKey): Promise<Issuer> {
  const [der] = pemBlocks(issuer.certPem, "CERTIFICATE");
  if (der === undefined) {
    throw new Error("expected a PEM CERTIFICATE block for the issuer, found none");
  }
  const [keyDer] = pemBlocks(issuer.keyPem, "PRIVATE KEY");
  if (keyDer === undefined) {
    throw new Error("expected a PEM PRIVATE KEY (PKCS #8) block for the issuer key, found none");
  }
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, signature,
  //   issuer, validity, subject, subjectPublicKeyInfo, ... }, ... }
  const tbs = children(der, readElement(der, 0))[0];
  const fields = children(der, tbs);
  const offset = fields[0].tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  const spki = fields[offset + 5];
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", keyDer, ecdsa, false, ["sign"]);
  } catch (error) {
    throw new Error(
      `expected an ECDSA P-256 PKCS #8 issuer key, found a key WebCrypto rejects: ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  return {
    name: der.slice(subject.start, subject.end),
    spki: der.slice(spki.start, spki.end),
    key,
  };
}

/** Creates a self-signed certificate authority with the given common name. */
export async function createCertificateAuthority(
  commonName: string,
  options: { organizations?: string[]; validityDays?: number } = {},
): Promise<CertificateAndKey> {
  return await buildCertificate(await generateKeys(), undefined, {
    subject: { commonName, organizations: options.organizations },
    usages: [],
    validityDays: options.validityDays ?? 3650,
    isCa: true,
  });
}

/**
 * Issues a leaf certificate signed by `issuer` (a CA made by `createCertificateAuthority`
 * or any ECDSA P-256 CA with a PKCS #8 key); `certPem` holds the leaf only.
 */
export async function issueCertificate(
  issuer: CertificateAndKey,
  options: IssueCertificateOptions,
): Promise<CertificateAndKey> {
  return await buildCertificate(await generateKeys(), await loadIssuer(issuer), {
    ...options,
    isCa: false,
  });
}

/**
 * Generates a serving certificate for the kubelet API when none is configured, the way the
 * kubelet does: a fresh CA named `<host>-ca@<unix time>` issues a leaf for `host` plus the
 * given names and addresses. `certPem` carries the leaf followed by the CA.
 */
export async function generateServingCertificate(
  host: string,
  options: { dnsNames?: string[]; ipAddresses?: string[]; validityDays?: number } = {},
): Promise<ServingCertificate> {
  const ca = await createCertificateAuthority(
    `${host}-ca@${Math.floor(Date.now() / 1000)}`,
    { validityDays: options.validityDays ?? 365 },
  );
  const isIp = parseIpv4(host) !== undefined || parseIpv6(host) !== undefined;
  const dnsNames = [...new Set([...(isIp ? [] : [host]), ...(options.dnsNames ?? [])])];
  const ipAddresses = [...new Set([...(isIp ? [host] : []), ...(options.ipAddresses ?? [])])];
  const leaf = await issueCertificate(ca, {
    subject: { commonName: `${host}@${Math.floor(Date.now() / 1000)}` },
    usages: ["server"],
    dnsNames,
    ipAddresses,
    validityDays: options.validityDays ?? 365,
  });
  return { certPem: leaf.certPem + ca.certPem, keyPem: leaf.keyPem, caPem: ca.certPem };
}
