/**
 * A vSphere VM as the provider reads it: the properties it asks the PropertyCollector for
 * (`vmPaths`), kept as plain values per path (so an update replaces one path) and read
 * into a typed {@linkcode VmRecord} with zod.
 *
 * @module
 */

import { z } from "zod";
import type { ObjectContent, PropertyChange } from "./property_collector.ts";
import { many, type MoRef, one, type Plain, xmlBoolean, xmlInt, xmlMoRef, xmlText } from "./xml.ts";

/** The VM properties the provider reads and watches. */
export const vmPaths = [
  "name",
  "config.template",
  "config.instanceUuid",
  "config.extraConfig",
  "config.hardware.numCPU",
  "config.hardware.memoryMB",
  "runtime.powerState",
  "runtime.host",
  "guest.ipAddress",
  "guest.net",
  "guest.toolsRunningStatus",
  "snapshot",
] as const;

const vmPathSet: ReadonlySet<string> = new Set(vmPaths);

/** One snapshot of a VM's tree. */
export interface SnapshotNode {
  ref: MoRef;
  name: string;
  description: string;
  createTime: string;
  /** The VM's power state when it was taken. */
  state: string;
}

/** A VM, typed. */
export interface VmRecord {
  ref: MoRef;
  name: string;
  template: boolean;
  instanceUuid?: string;
  /** `config.extraConfig` keys and their text values. */
  extraConfig: Map<string, string>;
  numCpu: number;
  memoryMB: number;
  /** `poweredOn`, `poweredOff` or `suspended`. */
  power: string;
  host?: MoRef;
  /** `guest.ipAddress`, then the other addresses of the first NIC, IPv4 first. */
  ips: string[];
  toolsRunning: boolean;
  /** Every snapshot, depth first. */
  snapshots: SnapshotNode[];
}

const optionValueSchema = z.object({ key: xmlText, value: z.unknown().optional() });

const nicSchema = z.object({
  ipAddress: many(xmlText),
  macAddress: xmlText.optional(),
  network: xmlText.optional(),
});

interface SnapshotTree {
  snapshot: MoRef;
  name: string;
  description?: string;
  createTime: string;
  state: string;
  childSnapshotList: SnapshotTree[];
}

const snapshotTreeSchema: z.ZodType<SnapshotTree> = z.lazy(() =>
  z.object({
    snapshot: xmlMoRef,
    name: xmlText,
    description: xmlText.optional(),
    createTime: xmlText,
    state: xmlText,
    childSnapshotList: many(snapshotTreeSchema),
  })
);

const snapshotInfoSchema = z.object({ rootSnapshotList: many(snapshotTreeSchema) });

function flatten(trees: SnapshotTree[]): SnapshotNode[] {
  return trees.flatMap((tree) => [
    {
      ref: tree.snapshot,
      name: tree.name,
      description: tree.description ?? "",
      createTime: tree.createTime,
      state: tree.state,
    },
    ...flatten(tree.childSnapshotList),
  ]);
}

function read<T>(schema: z.ZodType<T>, value: Plain | undefined, path: string, vm: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `VM ${vm} property ${path}: expected the documented shape, found ${
        JSON.stringify(value)?.slice(0, 200)
      }`,
    );
  }
  return parsed.data;
}

/** The typed VM of `ref` from its plain properties. */
export function vmRecordOf(ref: MoRef, props: ReadonlyMap<string, Plain>): VmRecord {
  const get = <T>(path: string, schema: z.ZodType<T>) =>
    props.has(path) ? read(schema, props.get(path), path, ref.value) : undefined;
  const extraConfig = new Map<string, string>();
  const options = get(
    "config.extraConfig",
    one(z.object({ OptionValue: many(optionValueSchema) })),
  );
  for (const option of options?.OptionValue ?? []) {
    const value = xmlText.safeParse(option.value);
    if (value.success) extraConfig.set(option.key, value.data);
  }
  const nics = get("guest.net", one(z.object({ GuestNicInfo: many(nicSchema) })))?.GuestNicInfo ??
    [];
  const primary = get("guest.ipAddress", xmlText);
  const addresses = [primary, ...(nics[0]?.ipAddress ?? [])].filter((ip): ip is string =>
    ip !== undefined && ip !== ""
  );
  const unique = [...new Set(addresses)];
  const snapshot = get("snapshot", snapshotInfoSchema);
  return {
    ref,
    name: get("name", xmlText) ?? ref.value,
    template: get("config.template", xmlBoolean) ?? false,
    instanceUuid: get("config.instanceUuid", xmlText),
    extraConfig,
    numCpu: get("config.hardware.numCPU", xmlInt) ?? 0,
    memoryMB: get("config.hardware.memoryMB", xmlInt) ?? 0,
    power: get("runtime.powerState", xmlText) ?? "poweredOff",
    host: get("runtime.host", xmlMoRef),
    ips: [...unique.filter((ip) => !ip.includes(":")), ...unique.filter((ip) => ip.includes(":"))],
    toolsRunning: get("guest.toolsRunningStatus", xmlText) === "guestToolsRunning",
    snapshots: flatten(snapshot?.rootSnapshotList ?? []),
  };
}

/** The plain properties of one retrieved object. */
export function propsOf(content: ObjectContent): Map<string, Plain> {
  return new Map(content.props);
}

/**
 * Applies an update's changes to `props`; returns false when a change is not of a whole
 * watched path (a nested path such as `config.extraConfig["key"]`), so the VM must be
 * read again.
 */
export function applyChanges(props: Map<string, Plain>, changes: PropertyChange[]): boolean {
  let complete = true;
  for (const change of changes) {
    if (!vmPathSet.has(change.name)) {
      complete = false;
      continue;
    }
    if (change.op === "remove" || change.op === "indirectRemove" || change.val === undefined) {
      props.delete(change.name);
    } else {
      props.set(change.name, change.val);
    }
  }
  return complete;
}
