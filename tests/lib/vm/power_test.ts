import { assertEquals } from "../../_harness/assert.ts";
import { judgeAction, strategyCreates, strategyOperation } from "../../../lib/vm/power.ts";

Deno.test("run strategies: what each asks of a stopped, crashed and running VM", () => {
  const table = {
    Always: [{ kind: "start" }, { kind: "start" }, undefined],
    Halted: [undefined, undefined, { kind: "stop", force: false }],
    RerunOnFailure: [undefined, { kind: "start" }, undefined],
    Manual: [undefined, undefined, undefined],
    Once: [undefined, undefined, undefined],
  } as const;
  for (const [strategy, [stopped, crashed, running]] of Object.entries(table)) {
    const s = strategy as keyof typeof table;
    assertEquals(strategyOperation(s, "Stopped"), stopped, `${s} Stopped`);
    assertEquals(strategyOperation(s, "Crashed"), crashed, `${s} Crashed`);
    assertEquals(strategyOperation(s, "Running"), running, `${s} Running`);
    assertEquals(strategyOperation(s, "Stopping"), undefined, `${s} acts on no transition`);
  }
  assertEquals(strategyCreates("Halted"), false);
  assertEquals(strategyCreates("Manual"), true);
});

Deno.test("power requests: the strategy is never rewritten, forbidden requests are rejected with the fix", () => {
  const start = { id: "1", type: "Start" } as const;
  const stop = { id: "2", type: "Stop" } as const;
  const restart = { id: "3", type: "Restart" } as const;
  const halted = judgeAction(start, "Halted", "Stopped");
  assertEquals(halted.kind, "reject");
  assertEquals(halted.kind === "reject" && halted.message.includes("runStrategy"), true);
  assertEquals(judgeAction(start, "Manual", "Stopped"), {
    kind: "perform",
    operation: { kind: "start" },
  });
  assertEquals(judgeAction(start, "Manual", "Running").kind, "done");
  assertEquals(judgeAction(stop, "Always", "Running").kind, "reject");
  assertEquals(judgeAction(stop, "Manual", "Running"), {
    kind: "perform",
    operation: { kind: "stop", force: false },
  });
  assertEquals(judgeAction({ ...stop, force: true }, "Halted", "Stopping"), {
    kind: "perform",
    operation: { kind: "stop", force: true },
  });
  assertEquals(judgeAction(stop, "Once", "Stopped").kind, "done");
  assertEquals(judgeAction(restart, "Always", "Running"), {
    kind: "perform",
    operation: { kind: "restart", force: false },
  });
  assertEquals(judgeAction(restart, "Manual", "Stopped").kind, "reject");
});
