import assert from "node:assert/strict";
import { stableFraction, stableHex } from "../../../providers/mock/stable_hash.ts";

Deno.test("stable fractions are in [0, 1), the same for the same seed and spread over seeds", () => {
  const values = Array.from({ length: 1000 }, (_, index) => stableFraction(`pod-${index}`));
  for (const value of values) assert.ok(value >= 0 && value < 1, String(value));
  assert.equal(stableFraction("pod-7"), values[7]);
  assert.ok(new Set(values).size > 990, "distinct seeds give distinct values");
  const low = values.filter((value) => value < 0.5).length;
  assert.ok(low > 400 && low < 600, `${low} of 1000 below one half`);
});

Deno.test("stable hex has the length asked for and depends only on its seed", () => {
  const machine = stableHex("machine/edge-1", 32);
  assert.match(machine, /^[0-9a-f]{32}$/);
  assert.equal(stableHex("machine/edge-1", 32), machine);
  assert.notEqual(stableHex("machine/edge-2", 32), machine);
  assert.equal(stableHex("machine/edge-1", 5), machine.slice(0, 5));
});
