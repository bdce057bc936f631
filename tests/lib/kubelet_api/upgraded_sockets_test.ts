import assert from "node:assert/strict";
import { UpgradedSockets } from "../../../lib/kubelet_api/upgraded_sockets.ts";
import { fakeSocket } from "./_fake_socket.ts";

Deno.test("upgraded sockets: a socket is tracked until it closes, and its signal then aborts", async () => {
  const sockets = new UpgradedSockets();
  const fake = fakeSocket({ closesOnEnd: true });
  const signal = sockets.track(fake.socket);
  assert.equal(sockets.size, 1);
  assert.equal(signal.aborted, false);
  fake.socket.end();
  await fake.closed;
  assert.equal(signal.aborted, true);
  assert.equal(sockets.size, 0);
});

Deno.test("upgraded sockets: closeAll aborts handlers, ends polite peers and destroys silent ones after the grace", async () => {
  const sockets = new UpgradedSockets();
  const polite = fakeSocket({ closesOnEnd: true });
  const silent = fakeSocket({ closesOnEnd: false });
  const politeSignal = sockets.track(polite.socket);
  const silentSignal = sockets.track(silent.socket);
  const started = Date.now();
  await sockets.closeAll(200);
  const took = Date.now() - started;
  assert.ok(politeSignal.aborted && silentSignal.aborted);
  assert.equal(polite.socket.destroyed, true);
  assert.equal(silent.socket.destroyed, true);
  assert.ok(took >= 150 && took < 2000, `closeAll took ${took} ms`);
  assert.equal(sockets.size, 0);
});
