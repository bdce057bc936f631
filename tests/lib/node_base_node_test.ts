import assert from "node:assert/strict";
import {
  baseNode,
  type NodeStatusWithFeatures,
  withAgentFields,
} from "../../lib/node/base_node.ts";

const options = {
  nodeName: "edge-1",
  providerName: "mock",
  operatingSystem: "linux",
  kubeletPort: 10250,
  kubeletVersion: "v1.36.3-vkedge-0.1.0",
};

Deno.test("node: declaredFeatures are written only when the agent declares some, and survive the provider", () => {
  assert.equal((baseNode(options).status as NodeStatusWithFeatures).declaredFeatures, undefined);
  const declaring = { ...options, declaredFeatures: ["ExtendWebSocketsToKubelet"] };
  assert.deepEqual(
    (baseNode(declaring).status as NodeStatusWithFeatures).declaredFeatures,
    ["ExtendWebSocketsToKubelet"],
  );
  const described = withAgentFields({ metadata: {}, status: { phase: "Running" } }, declaring);
  assert.deepEqual(
    (described.status as NodeStatusWithFeatures).declaredFeatures,
    ["ExtendWebSocketsToKubelet"],
  );
});
