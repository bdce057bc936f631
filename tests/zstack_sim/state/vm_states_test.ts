import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { ApiError } from "../errors.ts";
import { vmRecord } from "../_state.ts";
import type { VmInstance } from "../inventory.ts";
import { ALLOWED_STATES, checkState, setState } from "./vm_states.ts";

function vmIn(state: VmInstance["state"]): VmInstance {
  return vmRecord({ state });
}

Deno.test("an allowed state passes; another is SYS.1006 caused by VM.1010 naming the message", () => {
  checkState(vmIn("Stopped"), "StartVmInstance");
  const error = assertThrows(() => checkState(vmIn("Paused"), "StartVmInstance"), ApiError);
  assertEquals(error.error.code, "SYS.1006");
  assertEquals(error.error.cause?.code, "VM.1010");
  assertEquals(
    error.error.details,
    "current vm instance state[Paused] doesn't allow to proceed message[org.zstack.header.vm.APIStartVmInstanceMsg], allowed states are [Created, Stopped, Running, Crashed]",
  );
});

Deno.test("destroy is allowed in every state but Expunging, transient ones included", () => {
  for (const state of ["Starting", "Migrating", "Destroyed", "Created"] as const) {
    checkState(vmIn(state), "DestroyVmInstance");
  }
  assertThrows(() => checkState(vmIn("Expunging"), "DestroyVmInstance"), ApiError);
  assertEquals(ALLOWED_STATES.PauseVmInstance, ["Running"]);
});

Deno.test("setState moves the VM and stamps lastOpDate", () => {
  const vm = vmIn("Running");
  setState(vm, "Stopping");
  assertEquals(vm.state, "Stopping");
  assertEquals(vm.lastOpDate.getTime() > 0, true);
});
