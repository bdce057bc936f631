/**
 * Cloud-init user data for a pod's VM, for providers whose guests boot with cloud-init:
 * the pod's own `#cloud-config` (or `#!` script) from the provider's annotation (else a
 * VM-Pod's `vkedge.io/user-data`), extended with the hostname, the container's env as
 * `/etc/vkedge/pod.env` and its command and args as `/etc/vkedge/run.sh`, started at
 * first boot with its output in `/var/log/vkedge-pod.log`. The pieces (hostname, `$(NAME)`
 * expansion, shell quoting, base64) serve providers that write the document their own way.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { errorMessage } from "../errors.ts";
import { podKey } from "../pods/compare.ts";
import { InvalidInputError } from "../provider.ts";
import { VM_POD_ANNOTATIONS } from "./workload.ts";

/** A pod's own user data and the annotation it came from. */
export interface PodUserData {
  /** The annotation: the provider's own or the VM-Pod one. */
  annotation: string;
  /** Its text. */
  text: string;
}

/**
 * The user data `pod` brings: annotation `annotation` (the provider's own), else a
 * VM-Pod's `vkedge.io/user-data`; blank ones count as absent.
 */
export function findPodUserData(pod: Pod, annotation: string): PodUserData | undefined {
  for (const name of [annotation, VM_POD_ANNOTATIONS.userData]) {
    const text = pod.metadata?.annotations?.[name];
    if (text !== undefined && text.trim() !== "") return { annotation: name, text };
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

/** `text` as one single-quoted POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Base64 of the UTF-8 bytes of `text`, however long. */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

/** Options of {@linkcode cloudConfigOf}. */
export interface CloudConfigOptions {
  /** The pod (for its name, hostname and user-data annotations). */
  pod: Pod;
  /** Its container (env, command, args, working directory). */
  container: Container;
  /** The provider's user-data annotation, read before the VM-Pod one. */
  annotation: string;
  /** The provider's name, which starts every error message (`zstack`, `openstack`). */
  provider: string;
}

/**
 * The `#cloud-config` of a pod's VM, as described in the module documentation: the pod's
 * own document (see {@linkcode findPodUserData}) with the hostname set unless it sets one,
 * `/etc/vkedge/pod.env` appended to its `write_files` and, when the container has a
 * command or args, `/etc/vkedge/run.sh` appended too and started from `runcmd`.
 *
 * @throws {InvalidInputError} when the pod's user data is neither a `#cloud-config` YAML
 * mapping nor a `#!` script.
 */
export function cloudConfigOf(options: CloudConfigOptions): string {
  const { pod, container } = options;
  const key = podKey(pod);
  const document = ownDocument(options, key);
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

/** The pod's own user data as a `#cloud-config` mapping; a `#!` script becomes one. */
function ownDocument(options: CloudConfigOptions, key: string): Record<string, unknown> {
  const own = findPodUserData(options.pod, options.annotation);
  if (own === undefined) return {};
  const { annotation, text } = own;
  const where = `${options.provider} provider: pod ${key}: annotation ${annotation}`;
  if (text.startsWith("#!")) {
    return {
      write_files: [{ path: "/etc/vkedge/user-data.sh", permissions: "0755", content: text }],
      runcmd: [["/etc/vkedge/user-data.sh"]],
    };
  }
  if (!text.startsWith("#cloud-config")) {
    throw new InvalidInputError(
      `${where}: expected "#cloud-config" YAML or a "#!" script, found text starting with ${
        JSON.stringify(text.slice(0, 20))
      }`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`${where}: expected valid YAML, found ${errorMessage(error)}`, {
      cause: error,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidInputError(
      `${where}: expected a YAML mapping, found ${
        Array.isArray(parsed) ? "a list" : typeof parsed
      }`,
    );
  }
  return { ...(parsed as Record<string, unknown>) };
}
