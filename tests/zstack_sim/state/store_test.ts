import { assert, assertEquals, assertMatch, assertThrows } from "../../_harness/assert.ts";
import { freshState } from "../_state.ts";
import { ApiError } from "../errors.ts";
import { STORE_NAMES } from "./store.ts";

Deno.test("claimUuid gives a new uuid, takes a free one, and refuses a malformed or taken one", async () => {
  const state = await freshState();
  assertMatch(state.claimUuid(undefined), /^[0-9a-f]{32}$/);
  assertEquals(
    state.claimUuid("0123456789abcdef0123456789abcdef"),
    "0123456789abcdef0123456789abcdef",
  );
  const malformed = assertThrows(() => state.claimUuid("not-a-uuid"), ApiError);
  assertEquals(malformed.error.code, "SYS.1007");
  const zone = [...state.zones.keys()][0];
  assert(state.uuidInUse(zone));
  const taken = assertThrows(() => state.claimUuid(zone), ApiError, "Duplicate entry");
  assertEquals(taken.error.code, "SYS.1000");
});

Deno.test("store names every map of the inventory", async () => {
  const state = await freshState();
  assertEquals(STORE_NAMES.length, 14);
  for (const name of STORE_NAMES) assert(state.store(name) === state[name], name);
});

Deno.test("serial runs one resource's messages in order, past failures, and others alongside", async () => {
  const state = await freshState({ timing: { transitionMs: 20 } });
  const order: string[] = [];
  const first = state.serial("a", async () => {
    await state.pause("transition");
    order.push("a1");
    throw new Error("a1 failed");
  });
  const second = state.serial("a", () => {
    order.push("a2");
    return Promise.resolve("a2");
  });
  const other = state.serial("b", () => {
    order.push("b1");
    return Promise.resolve("b1");
  });
  assertEquals(await other, "b1");
  assertEquals(await first.catch((error: Error) => error.message), "a1 failed");
  assertEquals(await second, "a2");
  assertEquals(order, ["b1", "a1", "a2"]);
});
