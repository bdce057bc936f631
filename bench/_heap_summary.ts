/**
 * Summarises a V8 heap snapshot (`deno run -A bench/_heap_summary.ts <file>`): self size by
 * node type and constructor, the strings held most often, and how many objects carry the
 * properties of a pod's parts (`spec.containers`, `status.conditions`, `metadata.uid`), so
 * that copies of pods can be counted per kind.
 *
 * @module
 */

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const snapshot: Snapshot = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const meta = snapshot.snapshot.meta;
const nodeFieldCount = meta.node_fields.length;
const edgeFieldCount = meta.edge_fields.length;
const typeAt = meta.node_fields.indexOf("type");
const nameAt = meta.node_fields.indexOf("name");
const sizeAt = meta.node_fields.indexOf("self_size");
const edgeCountAt = meta.node_fields.indexOf("edge_count");
const edgeTypeAt = meta.edge_fields.indexOf("type");
const edgeNameAt = meta.edge_fields.indexOf("name_or_index");
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = snapshot;

const bySort = new Map<string, { count: number; bytes: number }>();
const stringCopies = new Map<string, { count: number; bytes: number }>();
const withProperty = new Map<string, number>();
const watched = new Set([
  "containers",
  "conditions",
  "uid",
  "managedFields",
  "podIP",
  "containerStatuses",
  "resourceVersion",
]);
let total = 0;
let edgeIndex = 0;
for (let i = 0; i < nodes.length; i += nodeFieldCount) {
  const type = nodeTypes[nodes[i + typeAt]];
  const name = strings[nodes[i + nameAt]];
  const size = nodes[i + sizeAt];
  total += size;
  const sort = type === "object" || type === "closure" ? `${type} ${name}` : type;
  const entry = bySort.get(sort) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += size;
  bySort.set(sort, entry);
  if (type === "string" || type === "concatenated string" || type === "sliced string") {
    const key = name.length > 60 ? `${name.slice(0, 60)}…(${name.length})` : name;
    const copies = stringCopies.get(key) ?? { count: 0, bytes: 0 };
    copies.count++;
    copies.bytes += size;
    stringCopies.set(key, copies);
  }
  const edgeCount = nodes[i + edgeCountAt];
  for (let e = 0; e < edgeCount; e++, edgeIndex += edgeFieldCount) {
    if (edgeTypes[edges[edgeIndex + edgeTypeAt]] !== "property") continue;
    const property = strings[edges[edgeIndex + edgeNameAt]];
    if (watched.has(property)) withProperty.set(property, (withProperty.get(property) ?? 0) + 1);
  }
}
const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
console.log(`total self size ${mib(total)} MiB in ${nodes.length / nodeFieldCount} nodes`);
console.log("\nlargest by type and constructor (MiB, count):");
for (
  const [sort, { count, bytes }] of [...bySort].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 30)
) {
  console.log(`  ${mib(bytes).padStart(8)}  ${String(count).padStart(8)}  ${sort}`);
}
console.log("\nstrings held most (MiB, copies):");
for (
  const [text, { count, bytes }] of [...stringCopies].sort((a, b) => b[1].bytes - a[1].bytes).slice(
    0,
    25,
  )
) {
  console.log(`  ${mib(bytes).padStart(8)}  ${String(count).padStart(8)}  ${JSON.stringify(text)}`);
}
console.log("\nobjects with the property:");
for (const [property, count] of withProperty) {
  console.log(`  ${String(count).padStart(8)}  ${property}`);
}
