/**
 * The cloud-init user data of a pod's server: the pod's own `#cloud-config` (or `#!`
 * script) from annotation `openstack.vkedge.io/user-data` (else a VM-Pod's
 * `vkedge.io/user-data`), extended with the hostname, the container's env as
 * `/etc/vkedge/pod.env` and its command and args as `/etc/vkedge/run.sh`, started at
 * first boot with its output in `/var/log/vkedge-pod.log` (which the console shows when
 * the image sends it there).
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InvalidInputError } from "../../lib/provider.ts";
import { errorMessage, VM_POD_ANNOTATIONS } from "../../lib/provider_kit/mod.ts";
import { identityKey } from "./identity.ts";

/** Annotation with cloud-init user data (`#cloud-config` YAML or a `#!` script). */
export const userDataAnnotation = "openstack.vkedge.io/user-data";

/** Nova's limit on user data: 65535 bytes of base64. */
export const maxUserDataBase64 = 65_535;

/** The user data a pod brings and the annotation it came from (blank counts as absent). */
export function podUserDataOf(pod: Pod): { annotation: string; text: string } | undefined {
  for (const annotation of [userDataAnnotation, VM_POD_ANNOTATIONS.userData]) {
    const text = pod.metadata?.annotations?.[annotation];
    if (text !== undefined && text.trim() !== "") return { annotation, text };
  }
  return undefined;
}

/** The pod's hostname: `spec.hostname` or its name, as one DNS label. */
export function podHostname(pod: Pod): string {
  const wanted = (pod.spec?.hostname ?? pod.metadata?.name ?? "pod").toLowerCase();
  const label = wanted.replace(/[^a-z0-9-]+/g, "-").slice(0, 63).replace(/^-+|-+$/g, "");
  return label === "" ? "pod" : label;
}

/** Expands `$(NAME)` from `env` as the kubelet does; `$$` escapes, unknown names stay. */
export function expandVariables(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function ownDocument(pod: Pod, key: string): Record<string, unknown> {
  const own = podUserDataOf(pod);
  if (own === undefined) return {};
  const { annotation, text } = own;
  if (text.startsWith("#!")) {
    return {
      write_files: [{ path: "/etc/vkedge/user-data.sh", permissions: "0755", content: text }],
      runcmd: [["/etc/vkedge/user-data.sh"]],
    };
  }
  if (!text.startsWith("#cloud-config")) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: annotation ${annotation}: expected "#cloud-config" YAML or a "#!" script, found text starting with ${
        JSON.stringify(text.slice(0, 20))
      }`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: annotation ${annotation}: expected valid YAML, found ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: annotation ${annotation}: expected a YAML mapping, found ${
        Array.isArray(parsed) ? "a list" : typeof parsed
      }`,
    );
  }
  return { ...(parsed as Record<string, unknown>) };
}

/**
 * The `#cloud-config` of the server of `pod` and its `container`, as described in the
 * module documentation.
 */
export function buildUserData(pod: Pod, container: Container): string {
  const key = identityKey({
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
  });
  const document = ownDocument(pod, key);
  const env = new Map<string, string>();
  const envLines = [`# environment of pod ${key}, container ${container.name}, written by vkedge`];
  for (const variable of container.env ?? []) {
    if (variable.value === undefined && variable.valueFrom !== undefined) continue;
    const value = variable.value ?? "";
    env.set(variable.name, value);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable.name)) {
      envLines.push(`export ${variable.name}=${shellQuote(value)}`);
    } else {
      envLines.push(`# skipped ${JSON.stringify(variable.name)}: not a shell variable name`);
    }
  }
  const files: Array<Record<string, string>> = [
    { path: "/etc/vkedge/pod.env", permissions: "0600", content: `${envLines.join("\n")}\n` },
  ];
  const runcmd: unknown[] = [];
  const argv = [...(container.command ?? []), ...(container.args ?? [])]
    .map((part) => expandVariables(part, env));
  if (argv.length > 0) {
    files.push({
      path: "/etc/vkedge/run.sh",
      permissions: "0755",
      content: [
        "#!/bin/sh",
        "set -a",
        ". /etc/vkedge/pod.env",
        "set +a",
        ...(container.workingDir ? [`cd ${shellQuote(container.workingDir)} || exit 1`] : []),
        `exec ${argv.map(shellQuote).join(" ")}`,
        "",
      ].join("\n"),
    });
    runcmd.push(["sh", "-c", "nohup /etc/vkedge/run.sh >>/var/log/vkedge-pod.log 2>&1 &"]);
  }
  document.hostname ??= podHostname(pod);
  document.write_files = [...asList(document.write_files), ...files];
  document.runcmd = [...asList(document.runcmd), ...runcmd];
  if ((document.runcmd as unknown[]).length === 0) delete document.runcmd;
  return `#cloud-config\n${stringifyYaml(document, { lineWidth: 0 })}`;
}

/** Base64 of the UTF-8 bytes of `text`, as Nova's `user_data` wants it. */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}
