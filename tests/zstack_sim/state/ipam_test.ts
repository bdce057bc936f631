import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { freshState, smallSeed, uuidNamed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { newUuid, type VmNic } from "../inventory.ts";
import { assignIp, freeIps, ipCapacity, newIpRange, releaseIps, staticIpsOf } from "./ipam.ts";
import type { SimState } from "./store.ts";

function addNic(state: SimState, vmInstanceUuid = "vm"): VmNic {
  const now = new Date();
  const nic: VmNic = {
    uuid: newUuid(),
    vmInstanceUuid,
    l3NetworkUuid: uuidNamed(state.l3Networks, "net"),
    mac: "fa:00:00:00:00:01",
    ipVersion: 4,
    deviceId: 0,
    driverType: "virtio",
    type: "VNIC",
    state: "enable",
    internalName: "vnic1.0",
    usedIps: [],
    createDate: now,
    lastOpDate: now,
  };
  state.nics.set(nic.uuid, nic);
  return nic;
}

Deno.test("a range's network CIDR and prefix length come from its start IP and netmask", () => {
  const range = newIpRange({
    uuid: newUuid(),
    l3NetworkUuid: newUuid(),
    name: "r",
    startIp: "192.168.100.10",
    endIp: "192.168.100.250",
    netmask: "255.255.255.0",
    gateway: "192.168.100.1",
  });
  assertEquals([range.networkCidr, range.prefixLen, range.ipVersion], ["192.168.100.0/24", 24, 4]);
});

Deno.test("free IPs are the lowest unused ones; NICs take them in order until the range is spent", async () => {
  const state = await freshState({ seed: smallSeed({ range: ["10.0.0.1", "10.0.0.3"] }) });
  const l3 = state.l3Networks.get(uuidNamed(state.l3Networks, "net"))!;
  // The gateway 10.0.0.1 lies in the range but is never handed out.
  assertEquals(freeIps(state, l3, { limit: 10 }).map(({ ip }) => ip), ["10.0.0.2", "10.0.0.3"]);
  assertEquals(ipCapacity(state, l3), { total: 3, used: 0 });
  const first = addNic(state, "vm-a");
  assignIp(state, first);
  assertEquals([first.ip, first.gateway, first.netmask], ["10.0.0.2", "10.0.0.1", "255.255.255.0"]);
  assertEquals(first.usedIpUuid, first.usedIps[0].uuid);
  assignIp(state, addNic(state, "vm-b"));
  assertEquals(ipCapacity(state, l3), { total: 3, used: 2 });
  assertThrows(() => assignIp(state, addNic(state)), ApiError, "has no IP available");
  releaseIps(state, "vm-a");
  assertEquals([first.ip, first.usedIps.length], [undefined, 0]);
  assertEquals(freeIps(state, l3, { limit: 1 }).map(({ ip }) => ip), ["10.0.0.2"]);
});

Deno.test("a static IP must lie in a range and be free", async () => {
  const state = await freshState({ seed: smallSeed() });
  const nic = addNic(state);
  assignIp(state, nic, { staticIp: "10.0.0.4" });
  assertEquals(nic.ip, "10.0.0.4");
  const outside = assertThrows(
    () => assignIp(state, addNic(state), { staticIp: "10.0.9.9" }),
    ApiError,
  );
  assertEquals(outside.error.code, "SYS.1007");
  const taken = assertThrows(
    () => assignIp(state, addNic(state), { staticIp: "10.0.0.4" }),
    ApiError,
  );
  assertEquals(taken.error.code, "SYS.1006");
});

Deno.test("staticIp:: system tags give the static IP of each L3 network", () => {
  const l3 = "a".repeat(32);
  assertEquals(
    [...staticIpsOf([`staticIp::${l3}::10.0.0.9`, "hostname::x"])],
    [[l3, "10.0.0.9"]],
  );
});
