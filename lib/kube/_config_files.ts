// Reading what a client configuration points to (files, base64 data, PEM blocks) with
// errors that name the field; shared by the kubeconfig and in-cluster loaders only.

import { errorMessage } from "../errors.ts";
import { KubeConfigError } from "./client_config.ts";

/** `Deno.env.get`, the default environment lookup of the loaders. */
export function defaultEnv(name: string): string | undefined {
  return Deno.env.get(name);
}

function describeReadError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "No such file";
  if (error instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "Is a directory";
  return errorMessage(error);
}

/** Reads `path` as text; a failure is a `KubeConfigError` for `field`. */
export async function readFileFor(field: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new KubeConfigError(field, `cannot read ${path}: ${describeReadError(error)}`, {
      cause: error,
    });
  }
}

/** Whether `path` is an existing regular file. */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The directory part of `path` (`.` for a bare file name). */
export function dirname(path: string): string {
  const index = path.lastIndexOf("/");
  if (index < 0) return ".";
  return index === 0 ? "/" : path.slice(0, index);
}

/** `path`, relative to `base` unless absolute. */
export function resolvePath(base: string, path: string): string {
  return path.startsWith("/") ? path : `${base}/${path}`;
}

function decodeBase64(field: string, data: string): string {
  try {
    const binary = atob(data.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    throw new KubeConfigError(
      field,
      `expected base64 data, found ${data.length} characters that are not base64`,
    );
  }
}

/** `pem` if it holds a PEM block; else a `KubeConfigError` for `field` naming `what` was expected. */
export function requirePem(field: string, pem: string, what: string): string {
  if (!pem.includes("-----BEGIN ")) {
    throw new KubeConfigError(field, `expected PEM ${what} ("-----BEGIN ..."), found none`);
  }
  return pem;
}

/** Where {@linkcode readPem} looks, and what it expects to find. */
export interface PemSource {
  /** The kubeconfig section, e.g. a cluster or a user. */
  section: Record<string, unknown>;
  /** The field path of the section, for errors, e.g. `clusters[c1].cluster`. */
  field: string;
  /** The directory relative file names are resolved against. */
  baseDir: string;
}

/** Reads a PEM from `<name>-data` (base64) or `<name>` (a file relative to `baseDir`). */
export async function readPem(
  source: PemSource,
  name: string,
  what: string,
): Promise<string | undefined> {
  const data = source.section[`${name}-data`];
  if (typeof data === "string" && data !== "") {
    const field = `${source.field}.${name}-data`;
    return requirePem(field, decodeBase64(field, data), what);
  }
  const path = source.section[name];
  if (typeof path === "string" && path !== "") {
    const field = `${source.field}.${name}`;
    const file = resolvePath(source.baseDir, path);
    return requirePem(field, await readFileFor(field, file), what);
  }
  return undefined;
}
