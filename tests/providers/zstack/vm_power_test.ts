import { assertEquals } from "../../_harness/assert.ts";
import { hostSchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { KnownHosts } from "../../../providers/zstack/hosts.ts";
import { powerOf, virtualMachineState } from "../../../providers/zstack/vm_power.ts";
import { client } from "./_fixtures.ts";

Deno.test("every ZStack VM state maps to the power state the contract names", () => {
  const table: Record<string, string> = {
    Created: "Stopped",
    Starting: "Starting",
    Running: "Running",
    Stopping: "Stopping",
    Stopped: "Stopped",
    Rebooting: "Rebooting",
    Migrating: "Migrating",
    Pausing: "Paused",
    Paused: "Paused",
    Resuming: "Starting",
    Crashed: "Crashed",
    Unknown: "Unknown",
    NoState: "Unknown",
    Error: "Unknown",
    VolumeMigrating: "Unknown",
  };
  assertEquals(
    Object.fromEntries(Object.keys(table).map((state) => [state, powerOf(state)])),
    table,
  );
});

Deno.test("the VM state names the host as ZStack does and carries the VM uuid; a stopped VM has no host", () => {
  const hosts = new KnownHosts(client("http://127.0.0.1:9"));
  hosts.add([hostSchema.parse({ uuid: "h".repeat(32), name: "host-2", managementIp: "10.0.0.2" })]);
  const tracked = (state: string, hostUuid?: string) => ({
    vm: vmInstanceSchema.parse({ uuid: "a".repeat(32), state, hostUuid }),
  });
  assertEquals(virtualMachineState(tracked("Running", "h".repeat(32)), hosts), {
    power: "Running",
    host: "host-2",
    id: "a".repeat(32),
  });
  assertEquals(virtualMachineState(tracked("Stopped"), hosts), {
    power: "Stopped",
    id: "a".repeat(32),
  });
});
