import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import type { PodDeletePolicy } from "../../../providers/zstack/config.ts";
import { ZStackApiError } from "../../../providers/zstack/errors.ts";
import { LifecycleLog } from "../../../providers/zstack/lifecycle_log.ts";
import { removedText, removeVm } from "../../../providers/zstack/vm_removal.ts";
import type { TrackedVm } from "../../../providers/zstack/vm_tracker.ts";
import { client, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, type Received, startReplayServer } from "./_replay_server.ts";

const uuid = "a".repeat(32);
const nodeTag = "vkedge.io/node:edge/node-1";

function trackedIn(state: string): TrackedVm {
  return {
    vm: vmInstanceSchema.parse({ uuid, name: "vkedge-default.web", state }),
    identity: { namespace: "default", name: "web", uid: "u" },
    pod: { metadata: {} },
    stateSince: new Date(),
    addedAt: 0,
    log: new LifecycleLog({ capacity: 10, ended: () => false }),
  };
}

const volumeUuid = "d".repeat(32);
const volumesQuery =
  `GET /v1/volumes?q=vmInstanceUuid=${uuid}&q=type=Data&limit=500&start=0&replyWithCount=true`;

/** What the replayed ZStack holds: the VM's state and whether a data volume is attached. */
interface Backend {
  state: string;
  attached: boolean;
}

/** A ZStack whose jobs end at once; `expunge` answers the expunge job. */
function zstack(backend: Backend, expunge: () => Response = () => json(200, {})) {
  const server = startReplayServer((request: Received) => {
    if (isLogin(request)) return json(200, loginReply);
    if (request.method === "GET" && request.path === "/v1/user-tags") {
      return inventories([{ uuid: "t".repeat(32), resourceUuid: uuid, tag: nodeTag }]);
    }
    if (request.method === "GET" && request.path === "/v1/volumes") {
      return inventories(
        backend.attached
          ? [{ uuid: volumeUuid, name: "pvc-1", type: "Data", vmInstanceUuid: uuid }]
          : [],
      );
    }
    if (request.method === "GET" && request.path === "/v1/vm-instances") {
      return inventories([{ uuid, name: "vkedge-default.web", state: backend.state }]);
    }
    if (request.method !== "GET") {
      return json(202, { location: `http://mn/zstack/v1/api-jobs/${request.method}` });
    }
    return request.path.endsWith("/PUT") ? expunge() : json(200, {});
  });
  return server;
}

async function remove(
  policy: PodDeletePolicy,
  state = "Running",
  options: { expunge?: () => Response; attached?: boolean } = {},
) {
  const server = zstack({ state, attached: options.attached ?? false }, options.expunge);
  const lines: string[] = [];
  try {
    await removeVm(trackedIn(state), {
      client: client(server.url),
      policy,
      nodeTag,
      log: (line) => lines.push(line),
      waitIntervalMs: 10,
      signal,
    });
    const calls = server.received.filter((r) => !r.path.startsWith("/v1/api-jobs/"))
      .filter((r) => r.path !== "/v1/accounts/login")
      .map((r) => `${r.method} ${r.path}${r.search}`);
    return { calls, lines };
  } finally {
    await server.close();
  }
}

Deno.test("destroy-and-expunge destroys the VM permissively, then expunges it", async () => {
  assertEquals(await remove("destroy-and-expunge"), {
    calls: [
      volumesQuery,
      `DELETE /v1/vm-instances/${uuid}?deleteMode=Permissive`,
      `PUT /v1/vm-instances/${uuid}/actions`,
    ],
    lines: ["destroy requested (pod deleted)", "expunge requested"],
  });
  const gone = await remove("destroy-and-expunge", "Destroyed", {
    expunge: () => json(503, { error: { code: "SYS.1003", details: "VM not found" } }),
  });
  assertEquals(gone.calls, [`PUT /v1/vm-instances/${uuid}/actions`]);
});

Deno.test("destroy only destroys; keep removes this node's tag and leaves the VM alone", async () => {
  assertEquals((await remove("destroy")).calls, [
    volumesQuery,
    `DELETE /v1/vm-instances/${uuid}?deleteMode=Permissive`,
  ]);
  const kept = await remove("keep");
  assertEquals(kept.calls, [
    `GET /v1/user-tags?q=resourceUuid=${uuid}&q=tag=${nodeTag}&limit=500&start=0&replyWithCount=true`,
    `DELETE /v1/tags/${"t".repeat(32)}`,
  ]);
  assertEquals(kept.lines, []);
});

Deno.test("an expunge that fails otherwise is the caller's error; the lines say what was done", async () => {
  await assertRejects(
    () =>
      remove("destroy-and-expunge", "Running", {
        expunge: () => json(503, { error: { code: "SYS.1006", details: "storage offline" } }),
      }),
    ZStackApiError,
    "storage offline",
  );
  const tracked = trackedIn("Destroyed");
  assertEquals(
    removedText(tracked, "destroy-and-expunge"),
    `VM vkedge-default.web (${uuid}) destroyed and expunged`,
  );
  assertEquals(removedText(tracked, "destroy"), `VM vkedge-default.web (${uuid}) destroyed`);
  assertEquals(
    removedText(tracked, "keep"),
    `VM vkedge-default.web (${uuid}) left running and released (onPodDelete: keep)`,
  );
});

Deno.test("a VM's data volumes are detached before it is destroyed, unless its state allows no detach", async () => {
  const running = await remove("destroy-and-expunge", "Running", { attached: true });
  assertEquals(running.calls, [
    volumesQuery,
    `GET /v1/vm-instances?q=uuid=${uuid}&limit=1`,
    `DELETE /v1/volumes/${volumeUuid}/vm-instances?vmUuid=${uuid}`,
    `DELETE /v1/vm-instances/${uuid}?deleteMode=Permissive`,
    `PUT /v1/vm-instances/${uuid}/actions`,
  ]);
  assertEquals(running.lines, [
    `data volume pvc-1 (${volumeUuid}) detached and kept`,
    "destroy requested (pod deleted)",
    "expunge requested",
  ]);
  const crashed = await remove("destroy", "Crashed", { attached: true });
  assertEquals(crashed.calls, [
    volumesQuery,
    `GET /v1/vm-instances?q=uuid=${uuid}&limit=1`,
    `DELETE /v1/vm-instances/${uuid}?deleteMode=Permissive`,
  ]);
  assertEquals(
    crashed.lines[0],
    `data volumes pvc-1 (${volumeUuid}) left attached: ZStack detaches nothing from a Crashed VM; destroying it detaches them unless dataVolume.deleteOnVmDestroy is set`,
  );
});
