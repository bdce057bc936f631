import { parse as parseYaml } from "yaml";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import {
  base64Utf8,
  buildUserData,
  expandVariables,
  podHostname,
  userDataAnnotation,
} from "../../../providers/zstack/user_data.ts";
import { pod } from "./_mapping_fixtures.ts";

Deno.test("user data carries hostname, env and the command with $(VAR) expanded", () => {
  const text = buildUserData({ pod: pod(), container: pod().spec!.containers[0] });
  assert(text.startsWith("#cloud-config\n"));
  const document = parseYaml(text) as {
    hostname: string;
    write_files: Array<{ path: string; content: string; permissions: string }>;
    runcmd: unknown[];
  };
  assertEquals(document.hostname, "web");
  const env = document.write_files.find((file) => file.path === "/etc/vkedge/pod.env")!;
  assertStringIncludes(env.content, "export PORT='8080'\n");
  assertStringIncludes(env.content, `# skipped "my.var": not a shell variable name`);
  assertEquals(env.permissions, "0600");
  const run = document.write_files.find((file) => file.path === "/etc/vkedge/run.sh")!;
  assertStringIncludes(run.content, `exec '/usr/bin/server' '--port' '8080' 'it'"'"'s'`);
  assertEquals(document.runcmd, [[
    "sh",
    "-c",
    "nohup /etc/vkedge/run.sh >>/var/log/vkedge-pod.log 2>&1 &",
  ]]);
});

Deno.test("user data merges a #cloud-config annotation and runs a #! script first", () => {
  const annotated = pod({}, {
    [userDataAnnotation]:
      "#cloud-config\nhostname: custom\npackages: [nginx]\nruncmd:\n  - [systemctl, start, nginx]\n",
  });
  const merged = parseYaml(
    buildUserData({ pod: annotated, container: annotated.spec!.containers[0] }),
  ) as Record<string, unknown[]>;
  assertEquals(merged.hostname as unknown, "custom");
  assertEquals(merged.packages, ["nginx"]);
  assertEquals(merged.runcmd[0], ["systemctl", "start", "nginx"]);
  assertEquals(merged.runcmd.length, 2);
  const scripted = pod({}, { [userDataAnnotation]: "#!/bin/sh\necho hi\n" });
  const withScript = parseYaml(
    buildUserData({ pod: scripted, container: scripted.spec!.containers[0] }),
  ) as Record<string, unknown[]>;
  assertEquals(withScript.runcmd[0], ["/etc/vkedge/user-data.sh"]);
  const bad = pod({}, { [userDataAnnotation]: "hello" });
  assertThrows(
    () => buildUserData({ pod: bad, container: bad.spec!.containers[0] }),
    InvalidInputError,
    `expected "#cloud-config" YAML or a "#!" script, found text starting with "hello"`,
  );
});

Deno.test("a VM-Pod's vkedge.io/user-data is merged as the zstack annotation is; the zstack one wins", () => {
  const cloudConfig = "#cloud-config\npackages: [nginx]\nruncmd:\n  - [systemctl, start, nginx]\n";
  const build = (annotations: Record<string, string>) => {
    const annotated = pod({}, annotations);
    return buildUserData({ pod: annotated, container: annotated.spec!.containers[0] });
  };
  assertEquals(
    build({ "vkedge.io/user-data": cloudConfig }),
    build({ [userDataAnnotation]: cloudConfig }),
  );
  const both = parseYaml(build({
    "vkedge.io/user-data": "#cloud-config\npackages: [apache2]\n",
    [userDataAnnotation]: cloudConfig,
  })) as Record<string, unknown[]>;
  assertEquals(both.packages, ["nginx"]);
  const scripted = parseYaml(build({ "vkedge.io/user-data": "#!/bin/sh\necho hi\n" })) as Record<
    string,
    unknown[]
  >;
  assertEquals(scripted.runcmd[0], ["/etc/vkedge/user-data.sh"]);
  assertThrows(
    () => build({ "vkedge.io/user-data": "hello" }),
    InvalidInputError,
    `zstack provider: pod default/web: annotation vkedge.io/user-data: expected "#cloud-config" YAML or a "#!" script`,
  );
});

Deno.test("$(VAR) expansion follows the kubelet: $$ escapes, unknown names stay", () => {
  const env = new Map([["A", "1"]]);
  assertEquals(expandVariables("$(A)-$(B)-$$(A)", env), "1-$(B)-$(A)");
  assertEquals(podHostname({ metadata: { name: "Web_Server.1" } }), "web-server-1");
});

Deno.test("user data is sent as base64 of its UTF-8 bytes, however long", () => {
  const text = `#cloud-config\nhostname: é✓\n${"x".repeat(100_000)}\n`;
  const decoded = new TextDecoder().decode(
    Uint8Array.from(atob(base64Utf8(text)), (char) => char.charCodeAt(0)),
  );
  assertEquals(decoded, text);
});
