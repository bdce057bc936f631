import assert from "node:assert/strict";
import { formatIpv4, Ipv4Pool, parseIpv4 } from "../../../providers/mock/ip_pool.ts";

Deno.test("IPv4 addresses convert between dotted quads and unsigned integers", () => {
  assert.equal(parseIpv4("10.233.0.7"), 10 * 2 ** 24 + 233 * 2 ** 16 + 7);
  assert.equal(parseIpv4("255.255.255.255"), 2 ** 32 - 1);
  assert.equal(formatIpv4(2 ** 32 - 1), "255.255.255.255");
  assert.equal(formatIpv4(parseIpv4("192.0.2.10") ?? 0), "192.0.2.10");
  for (const bad of ["10.0.0", "10.0.0.256", "10.0.0.x", "1.2.3.4.5", "", "10..0.1"]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

Deno.test("the pool hands out every host address once, never the network or broadcast one", () => {
  const base = parseIpv4("10.60.0.0") ?? 0;
  const pool = new Ipv4Pool(base, 29);
  const taken = new Set<number>();
  for (let index = 0; index < 6; index++) {
    const address = pool.allocate(`pod-${index}`);
    assert.ok(address !== undefined);
    assert.ok(address > base && address < base + 7, formatIpv4(address));
    taken.add(address);
  }
  assert.equal(taken.size, 6);
  assert.equal(pool.allocate("one-more"), undefined, "a full block has nothing left");
  const freed = [...taken][2];
  pool.release(freed);
  assert.equal(pool.allocate("anyone"), freed);
});

Deno.test("the same seed gets the same address while it is free, and reserved ones are skipped", () => {
  const base = parseIpv4("10.233.0.0") ?? 0;
  const first = new Ipv4Pool(base, 16).allocate("uid-web");
  const second = new Ipv4Pool(base, 16);
  assert.equal(second.allocate("uid-web"), first);

  const third = new Ipv4Pool(base, 16);
  assert.ok(first !== undefined && third.reserve(first));
  assert.equal(third.reserve(first), false, "reserved twice");
  const other = third.allocate("uid-web");
  assert.ok(other !== undefined && other !== first);
});
