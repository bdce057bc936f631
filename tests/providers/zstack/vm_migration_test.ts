import { assertEquals } from "../../_harness/assert.ts";
import { hostSchema, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { whyHostCannotTake } from "../../../providers/zstack/vm_migration.ts";

const GiB = 2 ** 30;
const vm = vmInstanceSchema.parse({
  uuid: "a".repeat(32),
  state: "Running",
  cpuNum: 2,
  memorySize: 4 * GiB,
});

function host(fields: Record<string, unknown>) {
  return hostSchema.parse({
    uuid: "h".repeat(32),
    name: "host-2",
    state: "Enabled",
    status: "Connected",
    availableCpuCapacity: 8,
    availableMemoryCapacity: 16 * GiB,
    ...fields,
  });
}

Deno.test("why a host cannot take a VM: disabled, disconnected, too few vCPUs or too little memory", () => {
  assertEquals(whyHostCannotTake(host({ state: "Maintenance" }), vm), "host-2 is Maintenance");
  assertEquals(whyHostCannotTake(host({ status: "Disconnected" }), vm), "host-2 is Disconnected");
  assertEquals(
    whyHostCannotTake(host({ availableCpuCapacity: 1 }), vm),
    "host-2 has 1 vCPUs free, the VM needs 2",
  );
  assertEquals(
    whyHostCannotTake(host({ availableMemoryCapacity: 1.5 * GiB }), vm),
    "host-2 has 1.5 GiB of memory free, the VM needs 4 GiB",
  );
  assertEquals(
    whyHostCannotTake(host({}), vm),
    "host-2 is not offered by ZStack as a migration target",
  );
});
