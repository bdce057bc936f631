/**
 * The event recorder against the real API server: events of one object recorded in the
 * same millisecond each get a name of their own (a collision made one of them fail with
 * AlreadyExists and be lost).
 */

import type { Event } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../_harness/assert.ts";
import { EVENTS } from "../../lib/kube/mod.ts";
import { EventRecorder } from "../../lib/events.ts";
import { withNamespace } from "./kube/_e2e.ts";

Deno.test("events of one object recorded at once all reach the API server, each under its own name", async () => {
  await withNamespace("events", async (client, namespace) => {
    const recorder = new EventRecorder(client, { component: "vkedge", host: "events-test" });
    const target = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace, uid: crypto.randomUUID() },
    };
    const reasons = Array.from({ length: 40 }, (_, i) => `Reason${i}`);
    // Recorded in one burst: many share a millisecond.
    await Promise.all(
      reasons.map((reason) => recorder.recordAndWait(target, "Normal", reason, "burst")),
    );
    const listed = await client.resource<Event>(EVENTS, namespace).list();
    assertEquals(listed.items.map((event) => event.reason).sort(), [...reasons].sort());
    assertEquals(new Set(listed.items.map((event) => event.metadata?.name)).size, reasons.length);
  });
});
