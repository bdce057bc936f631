/**
 * The CustomResourceDefinitions of the VM lifecycle API (group `vkedge.io`, version
 * `v1alpha1`): VirtualMachine, VirtualMachineSnapshot, VirtualMachineRestore and
 * VirtualMachineMigration. These objects are the source of truth: the agent applies them
 * with `--install-crds`, and `deno task crds` writes the same objects to `deploy/crds/`
 * for `kubectl apply -f deploy/crds/` (a test keeps the two equal).
 *
 * The schemas are structural, reject what the controllers cannot act on (with messages a
 * user can act on), and give `kubectl get` the columns a user looks for.
 *
 * @module
 */

import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  JSONSchemaProps,
} from "kubernetes-types/apiextensions/v1.d.ts";

/** The API group of the VM lifecycle resources. */
export const VM_GROUP = "vkedge.io";
/** Their version. */
export const VM_VERSION = "v1alpha1";

/** A JSON schema with the Kubernetes extensions the CRDs use. */
type Schema = Omit<JSONSchemaProps, "properties" | "items"> & {
  properties?: Record<string, Schema>;
  items?: Schema;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: { rule: string; message: string }[];
};

const string = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  description,
  ...extra,
});
const integer = (description: string, extra: Schema = {}): Schema => ({
  type: "integer",
  description,
  ...extra,
});
const boolean = (description: string): Schema => ({ type: "boolean", description });
const object = (
  description: string,
  properties: Record<string, Schema>,
  extra: Schema = {},
): Schema => ({ type: "object", description, properties, ...extra });

/** A Kubernetes object name (DNS-1123 subdomain). */
const objectName = (description: string): Schema =>
  string(description, {
    minLength: 1,
    maxLength: 253,
    pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
  });

const time = (description: string): Schema => string(description, { format: "date-time" });

const conditions: Schema = {
  type: "array",
  description: "The latest observations of the resource's state.",
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
  items: object("One condition.", {
    type: string("Condition type, such as Ready."),
    status: string("True, False or Unknown.", { enum: ["True", "False", "Unknown"] }),
    reason: string("One-word CamelCase reason."),
    message: string("What happened, for a human."),
    lastTransitionTime: time("When the status last changed."),
    observedGeneration: integer("The generation the condition was set for.", {
      format: "int64",
    }),
  }, { required: ["type", "status"] }),
};

const vmReference = objectName("Name of the VirtualMachine, in the same namespace.");

const duration = (description: string): Schema =>
  string(description, {
    pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$",
    maxLength: 32,
  });

const virtualMachineSpec = object("What the VM is and how it is powered.", {
  nodeName: string(
    "The virtual node (vkedge agent) that runs the VM. Empty: the first agent whose provider powers VMs claims it, and status.nodeName says which.",
    { maxLength: 253 },
  ),
  image: string(
    "The image the VM boots from, as the provider names images (a template, an image name or uuid, an alias from the provider config). Fixed when the VM is made.",
    { minLength: 1, maxLength: 512 },
  ),
  cpu: integer("Virtual CPUs. Fixed when the VM is made.", {
    minimum: 1,
    maximum: 512,
    default: 1,
  }),
  memory: string("Memory, as a Kubernetes quantity (512Mi, 4Gi). Fixed when the VM is made.", {
    default: "1Gi",
    pattern: "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$",
    maxLength: 32,
  }),
  networks: {
    type: "array",
    description:
      "Networks the VM joins, as the provider names them; the first gives the VM's IP. Empty: the provider's default.",
    maxItems: 8,
    items: string("A network name or uuid.", { minLength: 1, maxLength: 255 }),
  },
  disks: {
    type: "array",
    description: "Data disks: PersistentVolumeClaims whose volumes are attached to the VM.",
    maxItems: 16,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
    items: object("One disk.", {
      name: string("Disk name inside the VM resource.", {
        minLength: 1,
        maxLength: 63,
        pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
      }),
      claimName: objectName("The PersistentVolumeClaim, in the same namespace."),
    }, { required: ["name", "claimName"] }),
  },
  userData: string("cloud-init user data given to the VM at first boot (at most 64 KiB).", {
    maxLength: 65536,
  }),
  runStrategy: string(
    "When the VM runs: Always (kept running, started again after any stop), Halted (kept off), Manual (only spec.action powers it), RerunOnFailure (started again only after a crash), Once (never started again after it stops). See the README.",
    {
      enum: ["Always", "Halted", "Manual", "RerunOnFailure", "Once"],
      default: "Always",
    },
  ),
  placement: object(
    "Where the VM should be made, as the provider names zones, clusters and hosts.",
    {
      zone: string("Zone.", { maxLength: 255 }),
      cluster: string("Cluster.", { maxLength: 255 }),
      host: string("Host (hypervisor).", { maxLength: 255 }),
    },
  ),
  stopGracePeriodSeconds: integer(
    "How long the guest may take to shut down before the power is cut.",
    { minimum: 0, maximum: 3600, default: 30 },
  ),
  action: object(
    "A one-off power request: acted on once per id, acknowledged in status.lastAction. `vkedge vm start|stop|restart` writes it.",
    {
      id: string("Unique id of this request; a new id is a new request.", {
        minLength: 1,
        maxLength: 63,
      }),
      type: string("Start, Stop or Restart.", { enum: ["Start", "Stop", "Restart"] }),
      force: boolean("Cut the power instead of asking the guest (Stop and Restart)."),
    },
    {
      required: ["id", "type"],
      "x-kubernetes-validations": [{
        rule: "!has(self.force) || !self.force || self.type != 'Start'",
        message: "action.force applies to Stop and Restart only",
      }],
    },
  ),
}, { required: ["image"] });

const virtualMachineStatus = object("What the VM is doing, as the agent observed it.", {
  printableStatus: string(
    "One word for kubectl: Stopped, Provisioning, Starting, Running, Stopping, Restarting, Migrating, Paused, Crashed, Terminating, Failed, Unknown.",
  ),
  phase: string("Pending, Running, Stopped, Failed or Unknown."),
  nodeName: string("The virtual node serving the VM."),
  podName: string("The VM-Pod standing for the VM on the node."),
  vmId: string("The IaaS identifier of the VM."),
  ip: string("The VM's IP address."),
  host: string("The IaaS host (hypervisor) the VM runs on."),
  created: boolean("Whether the VM exists in the IaaS."),
  ready: boolean("Whether the VM runs and its pod is Ready."),
  runStrategy: string("The run strategy last acted on."),
  lastAction: object("The last spec.action seen, and how it went.", {
    id: string("Id of the request."),
    type: string("Start, Stop or Restart."),
    phase: string("InProgress, Succeeded, Failed or Rejected."),
    message: string("What happened."),
    startTime: time("When the agent took it up."),
    completionTime: time("When it ended."),
  }),
  observedGeneration: integer("The spec generation the status is for.", { format: "int64" }),
  conditions,
});

const virtualMachineColumns: CustomResourceColumnDefinition[] = [
  { name: "Status", type: "string", jsonPath: ".status.printableStatus" },
  { name: "Ready", type: "boolean", jsonPath: ".status.ready" },
  { name: "IP", type: "string", jsonPath: ".status.ip" },
  { name: "Host", type: "string", jsonPath: ".status.host" },
  { name: "Node", type: "string", jsonPath: ".status.nodeName", priority: 1 },
  { name: "Strategy", type: "string", jsonPath: ".spec.runStrategy", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

const snapshotSpec = object("Which VM to snapshot.", {
  virtualMachineName: vmReference,
  failureDeadline: duration(
    "How long taking the snapshot may take before it is marked Failed (default 5m; 0s: no deadline).",
  ),
  deletionPolicy: string(
    "What deleting this resource does to the IaaS snapshot: Delete (default) or Retain.",
    { enum: ["Delete", "Retain"], default: "Delete" },
  ),
}, {
  required: ["virtualMachineName"],
  "x-kubernetes-validations": [{
    rule: "self.virtualMachineName == oldSelf.virtualMachineName",
    message: "virtualMachineName is immutable: create a new VirtualMachineSnapshot",
  }],
});

const snapshotStatus = object("The snapshot's progress.", {
  phase: string("Pending, InProgress, Succeeded or Failed."),
  readyToUse: boolean("Whether a restore can use it."),
  sourceUID: string("UID of the VirtualMachine it was taken of."),
  snapshotId: string("The IaaS snapshot's identifier."),
  snapshotName: string("The name the IaaS snapshot was taken under."),
  creationTime: time("When the IaaS took it."),
  startTime: time("When the agent started taking it."),
  error: object("Why it failed.", {
    time: time("When."),
    message: string("What happened and what to do."),
  }),
  conditions,
});

const snapshotColumns: CustomResourceColumnDefinition[] = [
  { name: "VM", type: "string", jsonPath: ".spec.virtualMachineName" },
  { name: "Phase", type: "string", jsonPath: ".status.phase" },
  { name: "ReadyToUse", type: "boolean", jsonPath: ".status.readyToUse" },
  { name: "Error", type: "string", jsonPath: ".status.error.message", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

const restoreSpec = object("Which VM to restore from which snapshot.", {
  virtualMachineName: vmReference,
  virtualMachineSnapshotName: objectName("The VirtualMachineSnapshot, in the same namespace."),
}, {
  required: ["virtualMachineName", "virtualMachineSnapshotName"],
  "x-kubernetes-validations": [{
    rule: "self == oldSelf",
    message: "a VirtualMachineRestore is immutable: create a new one",
  }],
});

const restoreStatus = object("The restore's progress.", {
  complete: boolean("Whether the VM's disks are back at the snapshot."),
  restoreTime: time("When the restore completed."),
  startTime: time("When the agent started it."),
  conditions,
});

const restoreColumns: CustomResourceColumnDefinition[] = [
  { name: "VM", type: "string", jsonPath: ".spec.virtualMachineName" },
  { name: "Snapshot", type: "string", jsonPath: ".spec.virtualMachineSnapshotName" },
  { name: "Complete", type: "boolean", jsonPath: ".status.complete" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

const migrationSpec = object("Which VM to move, and where.", {
  virtualMachineName: vmReference,
  targetHost: string("The host to move to; empty: the IaaS picks one.", { maxLength: 255 }),
}, {
  required: ["virtualMachineName"],
  "x-kubernetes-validations": [{
    rule: "self == oldSelf",
    message: "a VirtualMachineMigration is immutable: create a new one",
  }],
});

const migrationStatus = object("The migration's progress.", {
  phase: string("Pending, Scheduling, Running, Succeeded or Failed."),
  sourceHost: string("The host the VM was on."),
  targetHost: string("The host chosen (or reached)."),
  startTime: time("When the move started."),
  completionTime: time("When it ended."),
  message: string("Why it failed, or how it went."),
  conditions,
});

const migrationColumns: CustomResourceColumnDefinition[] = [
  { name: "VM", type: "string", jsonPath: ".spec.virtualMachineName" },
  { name: "Phase", type: "string", jsonPath: ".status.phase" },
  { name: "Source", type: "string", jsonPath: ".status.sourceHost" },
  { name: "Target", type: "string", jsonPath: ".status.targetHost" },
  { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

interface KindSpec {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema;
  status: Schema;
  columns: CustomResourceColumnDefinition[];
}

function definition(kind: KindSpec): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${kind.plural}.${VM_GROUP}`,
      labels: { "app.kubernetes.io/part-of": "vkedge" },
    },
    spec: {
      group: VM_GROUP,
      scope: "Namespaced",
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        categories: ["vkedge"],
      },
      versions: [{
        name: VM_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: kind.columns,
        schema: {
          openAPIV3Schema: object(kind.description, {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: { type: "object" },
            spec: kind.spec,
            status: kind.status,
          }, { required: ["spec"] }) as JSONSchemaProps,
        },
      }],
    },
  };
}

/** The four definitions, in the order they are applied. */
export const VM_CRDS: readonly CustomResourceDefinition[] = [
  definition({
    kind: "VirtualMachine",
    plural: "virtualmachines",
    singular: "virtualmachine",
    shortNames: ["vm", "vms"],
    description: "One IaaS virtual machine, run by a vkedge virtual node.",
    spec: virtualMachineSpec,
    status: virtualMachineStatus,
    columns: virtualMachineColumns,
  }),
  definition({
    kind: "VirtualMachineSnapshot",
    plural: "virtualmachinesnapshots",
    singular: "virtualmachinesnapshot",
    shortNames: ["vmsnapshot", "vmsnap"],
    description: "A snapshot of every disk of a VirtualMachine, taken in the IaaS.",
    spec: snapshotSpec,
    status: snapshotStatus,
    columns: snapshotColumns,
  }),
  definition({
    kind: "VirtualMachineRestore",
    plural: "virtualmachinerestores",
    singular: "virtualmachinerestore",
    shortNames: ["vmrestore"],
    description: "Puts a stopped VirtualMachine's disks back to a VirtualMachineSnapshot.",
    spec: restoreSpec,
    status: restoreStatus,
    columns: restoreColumns,
  }),
  definition({
    kind: "VirtualMachineMigration",
    plural: "virtualmachinemigrations",
    singular: "virtualmachinemigration",
    shortNames: ["vmmigration", "vmim"],
    description: "Moves a running VirtualMachine to another IaaS host.",
    spec: migrationSpec,
    status: migrationStatus,
    columns: migrationColumns,
  }),
];
