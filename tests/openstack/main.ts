/**
 * The OpenStack test stack's command line.
 *
 *   deno run -A tests/openstack/main.ts check              # which packages are missing
 *   deno run -A tests/openstack/main.ts prepare            # build the template (once per machine)
 *   deno run -A tests/openstack/main.ts up --dir D [--until-pid P] [--keep]
 *                                                          # run a stack in D until stopped
 *   deno run -A tests/openstack/main.ts down --dir D       # stop the stack of D
 *
 * `up` runs in the foreground and prints `ready <keystone url>` once a server boots;
 * `stack.json` in the folder has everything a client needs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { alive, stopGroup } from "./process.ts";
import { runStack, type StackInfo } from "./stack.ts";
import { ensureTemplate, missingPackages, PACKAGES } from "./template.ts";

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    dir: { type: "string" },
    "until-pid": { type: "string" },
    keep: { type: "boolean", default: false },
    hold: { type: "boolean", default: false },
  },
});

async function down(dir: string): Promise<void> {
  let info: StackInfo;
  try {
    info = JSON.parse(await Deno.readTextFile(`${dir}/stack.json`)) as StackInfo;
  } catch {
    console.error(`no stack in ${dir}`);
    return;
  }
  if (alive(info.pid)) {
    Deno.kill(info.pid, "SIGTERM");
    const deadline = Date.now() + 120_000;
    while (alive(info.pid) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  // A supervisor that died leaves its daemons: stop each group it recorded.
  for (const pgid of Object.values(info.services)) await stopGroup(pgid, 10_000);
}

async function main(): Promise<number> {
  const [command] = positionals;
  switch (command) {
    case "check": {
      const missing = await missingPackages();
      if (missing.length === 0) return 0;
      console.log(missing.join(" "));
      return 1;
    }
    case "prepare": {
      const missing = await missingPackages();
      if (missing.length > 0) {
        console.error(`missing Debian packages: ${missing.join(" ")} (of ${PACKAGES.join(" ")})`);
        return 1;
      }
      const template = await ensureTemplate((text) => console.error(text));
      console.log(template.dir);
      return 0;
    }
    case "up": {
      if (values.dir === undefined) throw new Error("up: expected --dir");
      const missing = await missingPackages();
      if (missing.length > 0) {
        console.error(
          `missing Debian packages: ${
            missing.join(" ")
          }; run "make setup" (or tests/openstack/install.sh)`,
        );
        return 1;
      }
      await runStack({
        dir: values.dir,
        untilPid: values["until-pid"] === undefined ? undefined : Number(values["until-pid"]),
        keep: values.keep,
        hold: values.hold,
        onReady: (info) => console.log(`ready ${info.authUrl}`),
      });
      return 0;
    }
    case "down": {
      if (values.dir === undefined) throw new Error("down: expected --dir");
      await down(values.dir);
      return 0;
    }
    default:
      console.error(
        "usage: main.ts check | prepare | up --dir D [--until-pid P] [--keep] | down --dir D",
      );
      return 2;
  }
}

Deno.exit(await main());
