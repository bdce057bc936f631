/**
 * The VM lifecycle resources as the controllers read them: resource descriptors, and zod
 * schemas that check every object from the API server before a controller acts on it
 * (the CRD schema rejects most mistakes; these catch objects written under an older
 * schema or by hand-edited status).
 *
 * @module
 */

import { z } from "zod";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { customResource, type ResourceDescriptor } from "../kube/mod.ts";
export type { ResourceDescriptor };
import { VM_GROUP, VM_VERSION } from "./crds.ts";

/** `vkedge.io/v1alpha1`. */
export const VM_API_VERSION = `${VM_GROUP}/${VM_VERSION}`;

const descriptor = (kind: string, plural: string): ResourceDescriptor =>
  customResource(VM_GROUP, VM_VERSION, { plural, namespaced: true, kind });

/** vkedge.io/v1alpha1 VirtualMachines. */
export const VIRTUAL_MACHINES = descriptor("VirtualMachine", "virtualmachines");
/** vkedge.io/v1alpha1 VirtualMachineSnapshots. */
export const VM_SNAPSHOTS = descriptor("VirtualMachineSnapshot", "virtualmachinesnapshots");
/** vkedge.io/v1alpha1 VirtualMachineRestores. */
export const VM_RESTORES = descriptor("VirtualMachineRestore", "virtualmachinerestores");
/** vkedge.io/v1alpha1 VirtualMachineMigrations. */
export const VM_MIGRATIONS = descriptor("VirtualMachineMigration", "virtualmachinemigrations");

/** The run strategies. */
export const RUN_STRATEGIES = ["Always", "Halted", "Manual", "RerunOnFailure", "Once"] as const;
/** When a VM runs. */
export type RunStrategy = typeof RUN_STRATEGIES[number];

/** One condition of a VM lifecycle resource. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  observedGeneration: z.number().optional(),
});

const quantityPattern = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** The spec of a VirtualMachine, with the CRD's defaults filled in. */
export const virtualMachineSpecSchema = z.object({
  nodeName: z.string().optional(),
  image: z.string().min(1, "expected an image, found none"),
  cpu: z.number().int().min(1).max(512).default(1),
  memory: z.string().regex(quantityPattern, "expected a quantity such as 2Gi").default("1Gi"),
  networks: z.array(z.string().min(1)).max(8).optional(),
  disks: z.array(z.object({ name: z.string().min(1), claimName: z.string().min(1) })).max(16)
    .optional(),
  userData: z.string().max(65536).optional(),
  runStrategy: z.enum(RUN_STRATEGIES).default("Always"),
  placement: z.object({
    zone: z.string().optional(),
    cluster: z.string().optional(),
    host: z.string().optional(),
  }).optional(),
  stopGracePeriodSeconds: z.number().int().min(0).max(3600).default(30),
  action: z.object({
    id: z.string().min(1).max(63),
    type: z.enum(["Start", "Stop", "Restart"]),
    force: z.boolean().optional(),
  }).optional(),
});

/** A VirtualMachine's spec, checked. */
export type VirtualMachineSpec = z.infer<typeof virtualMachineSpecSchema>;
/** A one-off power request. */
export type PowerAction = NonNullable<VirtualMachineSpec["action"]>;

/** How a power request went. */
export interface ActionStatus {
  id: string;
  type: PowerAction["type"];
  phase: "InProgress" | "Succeeded" | "Failed" | "Rejected";
  message?: string;
  startTime?: string;
  completionTime?: string;
}

/** What the agent writes to a VirtualMachine's status. */
export interface VirtualMachineStatus {
  printableStatus?: string;
  phase?: "Pending" | "Running" | "Stopped" | "Failed" | "Unknown";
  nodeName?: string;
  podName?: string;
  vmId?: string;
  ip?: string;
  host?: string;
  created?: boolean;
  ready?: boolean;
  runStrategy?: RunStrategy;
  lastAction?: ActionStatus;
  observedGeneration?: number;
  conditions?: Condition[];
}

const actionStatusSchema = z.object({
  id: z.string(),
  type: z.enum(["Start", "Stop", "Restart"]),
  phase: z.enum(["InProgress", "Succeeded", "Failed", "Rejected"]),
  message: z.string().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
});

/** The status as read back; unknown or malformed fields are dropped, never trusted. */
export const virtualMachineStatusSchema = z.object({
  printableStatus: z.string().optional(),
  phase: z.enum(["Pending", "Running", "Stopped", "Failed", "Unknown"]).optional(),
  nodeName: z.string().optional(),
  podName: z.string().optional(),
  vmId: z.string().optional(),
  ip: z.string().optional(),
  host: z.string().optional(),
  created: z.boolean().optional(),
  ready: z.boolean().optional(),
  runStrategy: z.enum(RUN_STRATEGIES).optional(),
  lastAction: actionStatusSchema.optional().catch(undefined),
  observedGeneration: z.number().optional(),
  conditions: z.array(conditionSchema).optional().catch(undefined),
});

/** A VirtualMachine object. */
export interface VirtualMachine {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: VirtualMachineStatus;
}

/** A VirtualMachineSnapshot's spec, checked. */
export const snapshotSpecSchema = z.object({
  virtualMachineName: z.string().min(1),
  failureDeadline: z.string().optional(),
  deletionPolicy: z.enum(["Delete", "Retain"]).default("Delete"),
});

/** What the agent writes to a VirtualMachineSnapshot's status. */
export interface SnapshotStatus {
  phase?: "Pending" | "InProgress" | "Succeeded" | "Failed";
  readyToUse?: boolean;
  sourceUID?: string;
  snapshotId?: string;
  snapshotName?: string;
  creationTime?: string;
  startTime?: string;
  error?: { time?: string; message?: string };
  conditions?: Condition[];
}

/** A VirtualMachineSnapshot object. */
export interface VirtualMachineSnapshotObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: SnapshotStatus;
}

/** A VirtualMachineRestore's spec, checked. */
export const restoreSpecSchema = z.object({
  virtualMachineName: z.string().min(1),
  virtualMachineSnapshotName: z.string().min(1),
});

/** What the agent writes to a VirtualMachineRestore's status. */
export interface RestoreStatus {
  complete?: boolean;
  restoreTime?: string;
  startTime?: string;
  conditions?: Condition[];
}

/** A VirtualMachineRestore object. */
export interface VirtualMachineRestoreObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: RestoreStatus;
}

/** A VirtualMachineMigration's spec, checked. */
export const migrationSpecSchema = z.object({
  virtualMachineName: z.string().min(1),
  targetHost: z.string().optional(),
});

/** The phases of a migration. */
export type MigrationPhase = "Pending" | "Scheduling" | "Running" | "Succeeded" | "Failed";

/** What the agent writes to a VirtualMachineMigration's status. */
export interface MigrationStatus {
  phase?: MigrationPhase;
  sourceHost?: string;
  targetHost?: string;
  startTime?: string;
  completionTime?: string;
  message?: string;
  conditions?: Condition[];
}

/** A VirtualMachineMigration object. */
export interface VirtualMachineMigrationObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: MigrationStatus;
}

/** The readable text of a zod failure: each issue as `path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "spec"}: ${issue.message}`)
    .join("; ");
}

/** Sets `condition` in `list` (by type), keeping `lastTransitionTime` when the status is unchanged. */
export function setCondition(
  list: Condition[] | undefined,
  condition: Omit<Condition, "lastTransitionTime">,
  now: string,
): Condition[] {
  const current = (list ?? []).find((known) => known.type === condition.type);
  const lastTransitionTime = current && current.status === condition.status
    ? current.lastTransitionTime ?? now
    : now;
  const next: Condition = { ...condition, lastTransitionTime };
  return [...(list ?? []).filter((known) => known.type !== condition.type), next];
}

/** The condition of `type` in `list`. */
export function conditionOf(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((condition) => condition.type === type);
}
