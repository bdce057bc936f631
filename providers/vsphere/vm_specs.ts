/**
 * The XML of the specs vkedge sends: the clone spec of a pod's VM, the reconfigure spec of
 * its extraConfig, the relocate spec of a migration. Elements follow the vim25 schema's
 * sequence order, which vCenter enforces.
 *
 * @module
 */

import type { NetworkTarget, Template } from "./inventory.ts";
import { element, escapeXml, type MoRef, moRefElement, textElement } from "./xml.ts";

/** `<extraConfig>` entries; an empty value removes the key. */
export function extraConfigXml(entries: [string, string][]): string {
  return entries.map(([key, value]) =>
    element(
      "extraConfig",
      textElement("key", key) + element("value", escapeXml(value), { "xsi:type": "xsd:string" }),
      { "xsi:type": "OptionValue" },
    )
  ).join("");
}

/** The device change putting the template's first NIC on `network`. */
export function nicChangeXml(nic: NonNullable<Template["nic"]>, network: NetworkTarget): string {
  const backing = network.portgroup
    ? element(
      "backing",
      element(
        "port",
        textElement("switchUuid", network.portgroup.switchUuid) +
          textElement("portgroupKey", network.portgroup.key),
      ),
      { "xsi:type": "VirtualEthernetCardDistributedVirtualPortBackingInfo" },
    )
    : element(
      "backing",
      textElement("deviceName", network.name) + moRefElement("network", network.ref),
      { "xsi:type": "VirtualEthernetCardNetworkBackingInfo" },
    );
  const device = element(
    "device",
    textElement("key", nic.key) + backing +
      (nic.macAddress
        ? textElement("addressType", "assigned") + textElement("macAddress", nic.macAddress)
        : ""),
    { "xsi:type": nic.type },
  );
  return element("deviceChange", textElement("operation", "edit") + device);
}

/** What a clone needs. */
export interface CloneSpec {
  folder: MoRef;
  name: string;
  pool: MoRef;
  host?: MoRef;
  datastore?: MoRef;
  numCpu: number;
  memoryMB: number;
  extraConfig: [string, string][];
  /** The NIC change, when the pod's network is not the template's. */
  nicChange?: string;
}

/** The arguments of `CloneVM_Task` after `_this` (the template). */
export function cloneArgsXml(spec: CloneSpec): string {
  const location = (spec.datastore ? moRefElement("datastore", spec.datastore) : "") +
    moRefElement("pool", spec.pool) +
    (spec.host ? moRefElement("host", spec.host) : "") +
    (spec.nicChange ?? "");
  const config = textElement("numCPUs", spec.numCpu) + textElement("memoryMB", spec.memoryMB) +
    extraConfigXml(spec.extraConfig);
  return moRefElement("folder", spec.folder) + textElement("name", spec.name) +
    element(
      "spec",
      element("location", location) + textElement("template", false) + element("config", config) +
        textElement("powerOn", false),
    );
}

/** The arguments of `ReconfigVM_Task` setting `entries` of extraConfig (and the size, if given). */
export function reconfigArgsXml(
  entries: [string, string][],
  size?: { numCpu: number; memoryMB: number },
): string {
  const sized = size
    ? textElement("numCPUs", size.numCpu) + textElement("memoryMB", size.memoryMB)
    : "";
  return element("spec", sized + extraConfigXml(entries));
}

/** The arguments of `RelocateVM_Task` moving a VM to `host` (and `pool`). */
export function relocateArgsXml(host: MoRef, pool: MoRef | undefined): string {
  return element(
    "spec",
    (pool ? moRefElement("pool", pool) : "") + moRefElement("host", host),
  ) + textElement("priority", "defaultPriority");
}
