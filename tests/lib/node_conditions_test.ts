import { assertEquals } from "../_harness/assert.ts";
import { NodeConditions } from "../../lib/node/node_conditions.ts";
import { UnauthenticatedError, UnavailableError } from "../../lib/provider.ts";

Deno.test("node conditions: a provider outage leaves Ready True and says why in ProviderAvailable", () => {
  const conditions = new NodeConditions("zstack");
  const healthy = conditions.compute(new Date(0), {});
  const ready = (list: { type: string; status: string; reason?: string }[]) =>
    list.find((c) => c.type === "Ready");
  const provider = (list: { type: string; status: string; reason?: string }[]) =>
    list.find((c) => c.type === "ProviderAvailable");
  assertEquals(ready(healthy.conditions)?.status, "True");
  assertEquals(provider(healthy.conditions)?.status, "True");
  const down = conditions.compute(new Date(1000), { pingError: new UnavailableError("timeout") });
  assertEquals(ready(down.conditions)?.status, "True", "no NotReady, so no eviction");
  assertEquals(provider(down.conditions)?.reason, "ZstackProviderUnreachable");
  assertEquals(down.providerChanged, "False");
  assertEquals(down.readyChanged, undefined);
  const refused = conditions.compute(new Date(2000), {
    pingError: new UnauthenticatedError("wrong password"),
  });
  assertEquals(provider(refused.conditions)?.reason, "ZstackAuthenticationFailed");
  const back = conditions.compute(new Date(3000), {});
  assertEquals(back.providerChanged, "True");
});
