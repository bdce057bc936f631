/**
 * The cloud-init user data of a pod's VM: the pod's own `#cloud-config` (or `#!` script)
 * from annotation `zstack.vkedge.io/user-data` (else a VM-Pod's `vkedge.io/user-data`,
 * read the same way), extended with the hostname, the container's env as
 * `/etc/vkedge/pod.env` and its command and args as `/etc/vkedge/run.sh`, started at
 * first boot.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { InvalidInputError } from "../../lib/provider.ts";
import { errorMessage, VM_POD_ANNOTATIONS } from "../../lib/provider_kit/mod.ts";
import { identityKey } from "./identity.ts";

/** Annotation with cloud-init user data (`#cloud-config` YAML or a `#!` script). */
export const userDataAnnotation = "zstack.vkedge.io/user-data";

/** A pod's own user data and the annotation it came from. */
export interface PodUserData {
  /** The annotation: {@linkcode userDataAnnotation} or the VM-Pod one. */
  annotation: string;
  /** Its text. */
  text: string;
}

/**
 * The user data `pod` brings: annotation `zstack.vkedge.io/user-data`, else a VM-Pod's
 * `vkedge.io/user-data`; blank ones count as absent.
 */
export function podUserDataOf(pod: Pod): PodUserData | undefined {
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

/** Expands `$(NAME)` from `env` as the kubelet does; `$$` escapes, unknown names stay as written. */
export function expandVariables(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (match, name: string | undefined) => {
    if (match === "$$") return "$";
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Options of {@linkcode buildUserData}. */
export interface UserDataOptions {
  /** The pod (for its name and the user-data annotation). */
  pod: Pod;
  /** Its container (env, command, args). */
  container: Container;
}

/**
 * The cloud-init user data of a pod's VM: the pod's `#cloud-config` annotation (or `#!`
 * script, see {@linkcode podUserDataOf}) extended with the hostname, `/etc/vkedge/pod.env` (the container's env as shell
 * exports) and, when the container has a command or args, `/etc/vkedge/run.sh` started in
 * the background at first boot with its output in `/var/log/vkedge-pod.log`.
 */
export function buildUserData(options: UserDataOptions): string {
  const { pod, container } = options;
  const key = identityKey({
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
  });
  const document = userDocument(pod, key);
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

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function userDocument(pod: Pod, key: string): Record<string, unknown> {
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
      `zstack provider: pod ${key}: annotation ${annotation}: expected "#cloud-config" YAML or a "#!" script, found text starting with ${
        JSON.stringify(text.slice(0, 20))
      }`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: annotation ${annotation}: expected valid YAML, found ${
        errorMessage(error)
      }`,
      { cause: error },
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: annotation ${annotation}: expected a YAML mapping, found ${
        Array.isArray(parsed) ? "a list" : typeof parsed
      }`,
    );
  }
  return { ...(parsed as Record<string, unknown>) };
}

/** Base64 of the UTF-8 bytes of `text`, as `userdata::` wants it. */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}
