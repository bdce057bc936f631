import { assertEquals } from "../../_harness/assert.ts";
import { podIpsOf, podStatusFromVm, vmStateText } from "../../../providers/zstack/vm_to_pod.ts";
import { pod, since, vm } from "./_mapping_fixtures.ts";

Deno.test("pod IPs come from the default NIC, IPv4 first", () => {
  assertEquals(podIpsOf(vm({ state: "Running" })), ["10.0.0.5", "fd00::5"]);
  assertEquals(podIpsOf(vm({ state: "Running", defaultL3NetworkUuid: undefined })), [
    "192.168.0.9",
  ]);
  assertEquals(podIpsOf(vm({ state: "Created", vmNics: [] })), []);
});

Deno.test("Starting is Pending/ContainerCreating; Running is Running and Ready with IPs", () => {
  const desired = pod();
  const starting = podStatusFromVm(vm({ state: "Starting" }), { pod: desired, stateSince: since });
  assertEquals(starting.phase, "Pending");
  assertEquals(starting.containerStatuses?.[0].state?.waiting?.reason, "ContainerCreating");
  assertEquals(starting.conditions?.find((c) => c.type === "Ready")?.status, "False");
  const running = podStatusFromVm(vm({ state: "Running" }), {
    pod: desired,
    stateSince: since,
    runningSince: since,
    hostIp: "172.16.0.11",
  });
  assertEquals(running.phase, "Running");
  assertEquals(running.podIP, "10.0.0.5");
  assertEquals(running.podIPs, [{ ip: "10.0.0.5" }, { ip: "fd00::5" }]);
  assertEquals(running.hostIP, "172.16.0.11");
  assertEquals(running.startTime, "2026-11-25T10:00:00Z");
  assertEquals(running.qosClass, "Guaranteed");
  assertEquals(running.conditions?.find((c) => c.type === "Ready"), {
    type: "Ready",
    status: "True",
    lastTransitionTime: "2026-11-25T10:00:05Z",
  });
  const container = running.containerStatuses![0];
  assertEquals(container.ready, true);
  assertEquals(container.image, "zstack/ubuntu-22.04");
  assertEquals(container.containerID, "zstack://0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b");
  assertEquals(container.state?.running?.startedAt, "2026-11-25T10:00:05Z");
});

Deno.test("Stopped and Crashed are not Ready with the reason; Destroyed is terminated", () => {
  const desired = pod();
  const stopped = podStatusFromVm(vm({ state: "Stopped" }), { pod: desired, stateSince: since });
  assertEquals(stopped.phase, "Running");
  const ready = stopped.conditions?.find((c) => c.type === "Ready");
  assertEquals([ready?.status, ready?.reason], ["False", "VMStopped"]);
  assertEquals(stopped.containerStatuses?.[0].state?.terminated?.reason, "VMStopped");
  const crashed = podStatusFromVm(vm({ state: "Crashed" }), { pod: desired, stateSince: since });
  assertEquals(crashed.containerStatuses?.[0].state?.terminated?.exitCode, 1);
  const paused = podStatusFromVm(vm({ state: "Paused" }), { pod: desired, stateSince: since });
  assertEquals(paused.conditions?.find((c) => c.type === "Ready")?.reason, "VMPaused");
  const external = podStatusFromVm(vm({ state: "Destroyed" }), { pod: desired, stateSince: since });
  assertEquals([external.phase, external.reason], ["Failed", "VMDestroyed"]);
  assertEquals(external.podIP, undefined);
  const ours = podStatusFromVm(vm({ state: "Destroyed" }), {
    pod: desired,
    stateSince: since,
    deleted: { at: since, byUs: true },
  });
  assertEquals(ours.phase, "Succeeded");
  assertEquals(ours.containerStatuses?.[0].state?.terminated?.exitCode, 0);
});

Deno.test("the status of an unchanged VM is identical (so only changes are reported)", () => {
  const context = { pod: pod(), stateSince: since, runningSince: since };
  assertEquals(
    podStatusFromVm(vm({ state: "Running" }), context),
    podStatusFromVm(vm({ state: "Running" }), context),
  );
});

Deno.test("a state line names the VM, its state, host and IPs", () => {
  assertEquals(
    vmStateText(vm({ state: "Running" }), "host-1"),
    "VM vkedge-default.web (0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b) Running on host host-1, IP 10.0.0.5, fd00::5",
  );
  assertEquals(
    vmStateText(vm({ state: "Starting", vmNics: [] }), undefined),
    "VM vkedge-default.web (0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b) Starting",
  );
});
