/**
 * The guest set-up of a pod's VM through cloud-init's VMware guestinfo data source:
 * `guestinfo.metadata` (instance id, hostname) and `guestinfo.userdata` (env, command and
 * args, plus the pod's own user data from annotation `vsphere.vkedge.io/user-data` or
 * `vkedge.io/user-data`).
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { findPodUserData, podHostname, shellQuote } from "../../lib/provider_kit/mod.ts";

export { podHostname } from "../../lib/provider_kit/mod.ts";

/** Annotation with cloud-init user data for the guest. */
export const userDataAnnotation = "vsphere.vkedge.io/user-data";

function yamlString(text: string): string {
  return JSON.stringify(text);
}

/**
 * The cloud-init user data of `container`'s VM: `/etc/vkedge/pod.env` with its env and
 * `/etc/vkedge/run.sh` with its command and args (run once at first boot), and the pod's
 * own user data as a second part of a MIME multipart message when it has some.
 */
export function userDataOf(pod: Pod, container: Container): string {
  const env = (container.env ?? []).flatMap((variable) =>
    variable.value === undefined ? [] : [`${variable.name}=${shellQuote(variable.value)}`]
  );
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const lines = [
    "#cloud-config",
    `hostname: ${yamlString(podHostname(pod))}`,
    "write_files:",
    "  - path: /etc/vkedge/pod.env",
    "    permissions: '0600'",
    `    content: ${yamlString(env.map((line) => `${line}\n`).join(""))}`,
  ];
  if (argv.length > 0) {
    lines.push(
      "  - path: /etc/vkedge/run.sh",
      "    permissions: '0755'",
      `    content: ${
        yamlString(
          `#!/bin/sh\nset -a\n. /etc/vkedge/pod.env\nset +a\nexec ${
            argv.map(shellQuote).join(" ")
          }\n`,
        )
      }`,
      "runcmd:",
      "  - [sh, -c, 'nohup /etc/vkedge/run.sh >/var/log/vkedge-run.log 2>&1 &']",
    );
  }
  const vkedge = `${lines.join("\n")}\n`;
  const own = findPodUserData(pod, userDataAnnotation)?.text;
  if (own === undefined) return vkedge;
  const boundary = "vkedge-user-data";
  const part = (text: string) => {
    const type = text.startsWith("#!") ? "text/x-shellscript" : "text/cloud-config";
    return `--${boundary}\nContent-Type: ${type}; charset="utf-8"\n\n${text}\n`;
  };
  return `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n${
    part(vkedge)
  }${part(own)}--${boundary}--\n`;
}

/** cloud-init's instance metadata: the instance id and the hostname. */
export function metadataOf(pod: Pod, instanceId: string): string {
  return JSON.stringify({ "instance-id": instanceId, "local-hostname": podHostname(pod) });
}
