import {
  faultReason,
  podIpsOf,
  podStatusFromServer,
  powerOf,
  serverStateText,
} from "../../../providers/openstack/server_to_pod.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { pod, server } from "./_fixtures.ts";

const context = { pod: pod("web"), stateSince: new Date("2026-12-01T10:00:05Z") };

function readyOf(status: ReturnType<typeof podStatusFromServer>) {
  return status.conditions?.find((condition) => condition.type === "Ready");
}

Deno.test("pod IPs are the pod network's fixed IPs first (IPv4 before IPv6), floating ones left out", () => {
  assertEquals(podIpsOf(server()), ["10.20.0.5", "fd00::5", "10.21.0.9"]);
  assertEquals(podIpsOf(server({ metadata: {} })), ["10.21.0.9", "10.20.0.5", "fd00::5"]);
  assertEquals(podIpsOf(server({ addresses: {} })), []);
});

Deno.test("BUILD is Pending (ContainerCreating), ACTIVE Running and Ready with the IP and the host IP", () => {
  const building = podStatusFromServer(
    server({ status: "BUILD", "OS-EXT-STS:task_state": "spawning", addresses: {} }),
    context,
  );
  assertEquals(building.phase, "Pending");
  assertEquals(building.containerStatuses?.[0].state?.waiting?.reason, "ContainerCreating");
  const running = podStatusFromServer(server(), { ...context, hostIp: "192.0.2.11" });
  assertEquals([running.phase, readyOf(running)?.status, running.podIP, running.hostIP], [
    "Running",
    "True",
    "10.20.0.5",
    "192.0.2.11",
  ]);
  assertEquals(running.containerStatuses?.[0].containerID, `openstack://${server().id}`);
});

Deno.test("SHUTOFF keeps the pod Running and not Ready with reason VMStopped; stopping is not Ready either", () => {
  const stopped = podStatusFromServer(server({ status: "SHUTOFF" }), context);
  assertEquals([stopped.phase, readyOf(stopped)?.status, readyOf(stopped)?.reason], [
    "Running",
    "False",
    "VMStopped",
  ]);
  assertEquals(stopped.containerStatuses?.[0].state?.terminated?.reason, "VMStopped");
  const stopping = podStatusFromServer(
    server({ "OS-EXT-STS:task_state": "powering-off" }),
    context,
  );
  assertEquals([stopping.phase, readyOf(stopping)?.reason], ["Running", "VMStopping"]);
});

Deno.test("ERROR is Pending with the fault as the container's reason and message", () => {
  const failed = server({
    status: "ERROR",
    addresses: {},
    fault: { code: 500, message: "No valid host was found. There are not enough hosts available." },
  });
  const status = podStatusFromServer(failed, context);
  assertEquals(status.phase, "Pending");
  assertEquals(status.containerStatuses?.[0].state?.waiting?.reason, "NoValidHost");
  assertEquals(faultReason(server({ status: "ERROR", fault: { message: "boom" } })), "ServerError");
  assertEquals(
    serverStateText(failed),
    `server vkedge-default.web (${failed.id}) ERROR on host compute-1: No valid host was found. There are not enough hosts available.`,
  );
});

Deno.test("deleted by vkedge is Succeeded, gone otherwise Failed, released terminated ServerReleased", () => {
  const at = new Date("2026-12-01T11:00:00Z");
  assertEquals(
    podStatusFromServer(server(), { ...context, deleted: { at, byUs: true } }).phase,
    "Succeeded",
  );
  const gone = podStatusFromServer(server(), { ...context, deleted: { at, byUs: false } });
  assertEquals([gone.phase, gone.reason, gone.podIP], ["Failed", "ServerDeleted", undefined]);
  const kept = podStatusFromServer(server(), {
    ...context,
    deleted: { at, byUs: true, kept: true },
  });
  assertEquals(kept.containerStatuses?.[0].state?.terminated?.reason, "ServerReleased");
});

Deno.test("the power state follows status and task state", () => {
  assertEquals(powerOf(server()), "Running");
  assertEquals(powerOf(server({ "OS-EXT-STS:task_state": "powering-off" })), "Stopping");
  assertEquals(powerOf(server({ status: "SHUTOFF" })), "Stopped");
  assertEquals(
    powerOf(server({ status: "SHUTOFF", "OS-EXT-STS:task_state": "powering-on" })),
    "Starting",
  );
  assertEquals(powerOf(server({ status: "REBOOT" })), "Rebooting");
  assertEquals(powerOf(server({ status: "MIGRATING" })), "Migrating");
  assertEquals(powerOf(server({ status: "ERROR" })), "Unknown");
});

Deno.test("an unchanged server gives an identical status", () => {
  assertEquals(
    JSON.stringify(podStatusFromServer(server(), context)),
    JSON.stringify(podStatusFromServer(server(), context)),
  );
});
