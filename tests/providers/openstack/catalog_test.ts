import { endpointFor, findEndpoint } from "../../../providers/openstack/catalog.ts";
import { chooseComputeVersion, computeRoot } from "../../../providers/openstack/client.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { assertEquals, assertMatch, assertThrows } from "../../_harness/assert.ts";

const catalog = [
  {
    type: "compute",
    endpoints: [
      { interface: "internal", region_id: "RegionOne", url: "http://10.0.0.1:8774/v2.1" },
      { interface: "public", region_id: "RegionOne", url: "https://nova.example/v2.1/" },
      { interface: "public", region_id: "RegionTwo", url: "https://nova2.example/v2.1" },
    ],
  },
  {
    type: "image",
    endpoints: [{ interface: "public", region: "RegionOne", url: "https://glance.example" }],
  },
];

Deno.test("endpoints are chosen by type, interface and region, an override wins", () => {
  assertEquals(
    findEndpoint(catalog, { type: "compute", interface: "public", region: "RegionOne" }),
    "https://nova.example/v2.1",
  );
  assertEquals(
    findEndpoint(catalog, { type: "compute", interface: "public", region: "RegionTwo" }),
    "https://nova2.example/v2.1",
  );
  assertEquals(
    findEndpoint(catalog, { type: "compute", interface: "internal" }),
    "http://10.0.0.1:8774/v2.1",
  );
  assertEquals(
    endpointFor(catalog, {
      type: "image",
      interface: "public",
      override: "http://127.0.0.1:9292/",
    }),
    "http://127.0.0.1:9292",
  );
});

Deno.test("a catalog without the endpoint asked for is refused listing what it has", () => {
  const error = assertThrows(
    () => endpointFor(catalog, { type: "network", interface: "public", region: "RegionOne" }),
    InvalidInputError,
  );
  assertMatch(
    error.message,
    /expected a public network endpoint in region RegionOne.*found compute \(internal RegionOne, public RegionOne, public RegionTwo\), image \(public RegionOne\)/,
  );
});

Deno.test("the compute microversion is the cloud's highest up to 2.79; below 2.52 is refused", () => {
  assertEquals(chooseComputeVersion({ min: "2.1", max: "2.93" }, "n"), "2.79");
  assertEquals(chooseComputeVersion({ min: "2.1", max: "2.60" }, "n"), "2.60");
  assertMatch(
    assertThrows(() => chooseComputeVersion({ max: "2.38" }, "http://nova"), InvalidInputError)
      .message,
    /needs 2.52/,
  );
  assertEquals(computeRoot("http://nova:8774/v2.1/3f1a2b"), "http://nova:8774/v2.1");
  assertEquals(computeRoot("http://nova:8774/v2.1"), "http://nova:8774/v2.1");
});
