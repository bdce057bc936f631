/**
 * Metrics of the node controller: the Ready status it last wrote, and its Lease
 * heartbeats.
 *
 * @module
 */

import { counter, gauge } from "../metrics/mod.ts";

/** 1 while the Node's Ready condition, as last written, is True; 0 otherwise. */
export const nodeReady = gauge({
  name: "vkedge_node_ready",
  help: "1 while the Ready condition the agent last wrote to its Node is True, else 0.",
});

/** Heartbeat renewals of the node's Lease in kube-node-lease, by outcome. */
export const nodeLeaseRenewals = counter<"outcome">({
  name: "vkedge_node_lease_renewals_total",
  help: "Renewals of the node's heartbeat Lease in kube-node-lease, by outcome " +
    "(success, failure).",
  labelNames: ["outcome"],
});
