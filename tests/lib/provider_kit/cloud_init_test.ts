import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import {
  base64Utf8,
  cloudConfigOf,
  expandVariables,
  findPodUserData,
  podHostname,
  shellQuote,
} from "../../../lib/provider_kit/mod.ts";

const annotation = "demo.vkedge.io/user-data";

const container: Container = {
  name: "main",
  image: "ubuntu",
  command: ["/usr/bin/server"],
  args: ["--port", "$(PORT)"],
  env: [{ name: "PORT", value: "8080" }],
};

function pod(annotations: Record<string, string> = {}): Pod {
  return {
    metadata: { namespace: "shop", name: "web", annotations },
    spec: { containers: [container] },
  };
}

interface Document {
  hostname?: string;
  packages?: string[];
  write_files: Array<{ path: string; permissions: string; content: string }>;
  runcmd?: unknown[];
}

function build(annotations: Record<string, string> = {}): Document {
  const text = cloudConfigOf({ pod: pod(annotations), container, annotation, provider: "demo" });
  assertEquals(text.split("\n")[0], "#cloud-config");
  return parseYaml(text) as Document;
}

const runScript = ["sh", "-c", "nohup /etc/vkedge/run.sh >>/var/log/vkedge-pod.log 2>&1 &"];

Deno.test("cloud-config: the pod's own #cloud-config is kept, its lists extended and its hostname wins", () => {
  const document = build({
    [annotation]:
      "#cloud-config\nhostname: custom\npackages: [nginx]\nruncmd:\n  - [systemctl, start, nginx]\nwrite_files:\n  path: /etc/motd\n  content: hi\n",
  });
  assertEquals(document.hostname, "custom");
  assertEquals(document.packages, ["nginx"]);
  assertEquals(document.runcmd, [["systemctl", "start", "nginx"], runScript]);
  assertEquals(
    document.write_files.map((file) => file.path),
    ["/etc/motd", "/etc/vkedge/pod.env", "/etc/vkedge/run.sh"],
  );
});

Deno.test("cloud-config: a #! script is written to /etc/vkedge/user-data.sh and run before the container", () => {
  const document = build({ [annotation]: "#!/bin/sh\necho hi\n" });
  assertEquals(document.hostname, "web");
  assertEquals(document.write_files[0], {
    path: "/etc/vkedge/user-data.sh",
    permissions: "0755",
    content: "#!/bin/sh\necho hi\n",
  });
  assertEquals(document.runcmd, [["/etc/vkedge/user-data.sh"], runScript]);
});

Deno.test("cloud-config: without own user data the hostname, env and command are all there is", () => {
  const document = build();
  assertEquals(document.hostname, "web");
  assertEquals(
    document.write_files[0].content,
    [
      "# environment of pod shop/web, container main, written by vkedge",
      "export PORT='8080'",
      "",
    ].join("\n"),
  );
  assertEquals(
    document.write_files[1].content.split("\n").at(-2),
    "exec '/usr/bin/server' '--port' '8080'",
  );
  assertEquals(document.runcmd, [runScript]);
});

Deno.test("cloud-config: user data that is neither #cloud-config nor #! names provider, pod and annotation", () => {
  assertThrows(
    () => build({ [annotation]: "hello" }),
    InvalidInputError,
    `demo provider: pod shop/web: annotation demo.vkedge.io/user-data: expected "#cloud-config" YAML or a "#!" script, found text starting with "hello"`,
  );
  assertThrows(
    () => build({ "vkedge.io/user-data": "#cloud-config\n- a\n" }),
    InvalidInputError,
    "demo provider: pod shop/web: annotation vkedge.io/user-data: expected a YAML mapping, found a list",
  );
  assertThrows(
    () => build({ [annotation]: "#cloud-config\na: [\n" }),
    InvalidInputError,
    "demo provider: pod shop/web: annotation demo.vkedge.io/user-data: expected valid YAML, found ",
  );
});

Deno.test("cloud-config: the provider's annotation wins over the VM-Pod one, and a blank one counts as absent", () => {
  assertEquals(
    findPodUserData(pod({ [annotation]: "#!/bin/sh\n", "vkedge.io/user-data": "x" }), annotation),
    {
      annotation,
      text: "#!/bin/sh\n",
    },
  );
  assertEquals(
    findPodUserData(pod({ [annotation]: " \n", "vkedge.io/user-data": "x" }), annotation),
    {
      annotation: "vkedge.io/user-data",
      text: "x",
    },
  );
  assertEquals(findPodUserData(pod({ "other.vkedge.io/user-data": "x" }), annotation), undefined);
});

Deno.test("$(VAR) expansion follows the kubelet: known names expand, $$ escapes, unknown names stay", () => {
  const env = new Map([["A", "1"], ["B", "$(A)"]]);
  assertEquals(expandVariables("$(A)-$(B)-$(C)-$$(A)-$$$(A)-$(A", env), "1-$(A)-$(C)-$(A)-$1-$(A");
});

Deno.test("the hostname is spec.hostname or the pod name as one lowercase DNS label", () => {
  assertEquals(podHostname({ metadata: { name: "Web_Server.1" } }), "web-server-1");
  assertEquals(
    podHostname({ metadata: { name: "web" }, spec: { hostname: "DB", containers: [] } }),
    "db",
  );
  assertEquals(podHostname({ metadata: { name: `${"a".repeat(62)}.b` } }), "a".repeat(62));
  assertEquals(podHostname({ metadata: { name: "--" } }), "pod");
  assertEquals(podHostname({}), "pod");
});

Deno.test("shell quoting makes one word of any text, quotes included", () => {
  assertEquals(shellQuote("it's $HOME"), `'it'"'"'s $HOME'`);
  assertEquals(shellQuote(""), "''");
});

Deno.test("base64 is of the UTF-8 bytes, however long the text", () => {
  const text = `é✓${"x".repeat(100_000)}`;
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(base64Utf8(text)), (char) => char.charCodeAt(0)),
  );
  assertEquals(decoded, text);
});
