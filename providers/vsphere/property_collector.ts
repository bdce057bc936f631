/**
 * The PropertyCollector, the one way vSphere is read: `RetrievePropertiesEx` and
 * `ContinueRetrievePropertiesEx` for a snapshot of objects (through a container view's
 * traversal spec, or of objects named directly), and `WaitForUpdatesEx` on a filter for the
 * changes since a version, pushed by the server instead of polled per object. Property
 * values stay plain (`xml.ts`) for the caller's schema.
 *
 * @module
 */

import { z } from "zod";
import { moRefList, moRefReply, textList, voidReply, type VsphereClient } from "./client.ts";
import {
  element,
  many,
  type MoRef,
  moRefElement,
  one,
  type Plain,
  textElement,
  xmlMoRef,
  xmlText,
} from "./xml.ts";

/** Which properties of which kind of object to read. */
export interface PropertySpec {
  /** Kind, such as `VirtualMachine`. */
  type: string;
  /** Property paths, such as `runtime.powerState`. */
  paths: string[];
}

/** One object and the properties read of it. */
export interface ObjectContent {
  obj: MoRef;
  /** Property path → plain value (absent: unset). */
  props: Map<string, Plain>;
}

const objectContentSchema = z.object({
  obj: xmlMoRef,
  propSet: many(z.object({ name: xmlText, val: z.unknown() })),
}).transform((content): ObjectContent => ({
  obj: content.obj,
  props: new Map(content.propSet.map((prop) => [prop.name, prop.val as Plain])),
}));

/** An empty element (`<returnval/>`) reads as absent. */
function absentIfEmpty(value: unknown): unknown {
  return value === "" ? undefined : value;
}

const retrieveResultSchema = z.preprocess(
  absentIfEmpty,
  z.object({
    token: xmlText.optional(),
    objects: many(objectContentSchema),
  }).optional(),
);

function propSetXml(specs: PropertySpec[]): string {
  return specs.map((spec) =>
    element("propSet", textElement("type", spec.type) + textList("pathSet", spec.paths))
  ).join("");
}

/** A filter spec reading `specs` of the objects a container view holds. */
export function viewFilterSpec(view: MoRef, specs: PropertySpec[]): string {
  const traversal = element(
    "selectSet",
    textElement("name", "view") + textElement("type", "ContainerView") +
      textElement("path", "view") + textElement("skip", false),
    { "xsi:type": "TraversalSpec" },
  );
  return propSetXml(specs) +
    element("objectSet", moRefElement("obj", view) + textElement("skip", true) + traversal);
}

/** A filter spec reading `paths` of the objects `refs`; objects that are gone are left out. */
export function objectsFilterSpec(refs: MoRef[], paths: string[]): string {
  const types = [...new Set(refs.map((ref) => ref.type))];
  return propSetXml(types.map((type) => ({ type, paths }))) +
    refs.map((ref) => element("objectSet", moRefElement("obj", ref) + textElement("skip", false)))
      .join("") +
    textElement("reportMissingObjectsInResults", true); // a destroyed VM is left out, not a fault
}

/** Reads every object `specSet` selects, following continuation tokens. */
export async function retrieveProperties(
  client: VsphereClient,
  specSet: string,
  signal: AbortSignal,
): Promise<ObjectContent[]> {
  const { propertyCollector } = await client.serviceContent(signal);
  let result = await client.call(
    "RetrievePropertiesEx",
    propertyCollector,
    element("specSet", specSet) + element("options", ""),
    retrieveResultSchema,
    signal,
  );
  const objects = [...result?.objects ?? []];
  while (result?.token !== undefined) {
    result = await client.call(
      "ContinueRetrievePropertiesEx",
      propertyCollector,
      textElement("token", result.token),
      retrieveResultSchema,
      signal,
    );
    objects.push(...result?.objects ?? []);
  }
  return objects;
}

/** A container view of `types` under `container`, on the server for this session. */
export async function createContainerView(
  client: VsphereClient,
  container: MoRef,
  types: string[],
  signal: AbortSignal,
): Promise<MoRef> {
  const { viewManager } = await client.serviceContent(signal);
  return await client.call(
    "CreateContainerView",
    viewManager,
    moRefElement("container", container) + textList("type", types) +
      textElement("recursive", true),
    moRefReply,
    signal,
  );
}

/** Destroys a view (best effort: it ends with the session anyway). */
export async function destroyView(
  client: VsphereClient,
  view: MoRef,
  signal: AbortSignal,
): Promise<void> {
  await client.call("DestroyView", view, "", voidReply, signal).catch(() => undefined);
}

/**
 * Reads `specs` of every object of those kinds under `container` (recursively), through a
 * container view made for the read and destroyed after it.
 */
export async function retrieveUnder(
  client: VsphereClient,
  container: MoRef,
  specs: PropertySpec[],
  signal: AbortSignal,
): Promise<ObjectContent[]> {
  const view = await createContainerView(client, container, specs.map((spec) => spec.type), signal);
  try {
    return await retrieveProperties(client, viewFilterSpec(view, specs), signal);
  } finally {
    await destroyView(client, view, signal);
  }
}

/** Reads `paths` of the objects `refs`; objects that are gone are left out. */
export async function retrieveObjects(
  client: VsphereClient,
  refs: MoRef[],
  paths: string[],
  signal: AbortSignal,
): Promise<ObjectContent[]> {
  if (refs.length === 0) return [];
  return await retrieveProperties(client, objectsFilterSpec(refs, paths), signal);
}

// ---------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------

/** One change of one property: `assign` with the new value, `remove` or `indirectRemove`. */
export interface PropertyChange {
  name: string;
  op: string;
  val?: Plain;
}

/** What changed of one object: it `enter`ed the filter, was `modify`d or `leave`s it. */
export interface ObjectUpdate {
  kind: "enter" | "modify" | "leave";
  obj: MoRef;
  changes: PropertyChange[];
}

/** The updates since a version. */
export interface UpdateSet {
  version: string;
  /** More updates are ready now (the server cut the set at `maxObjectUpdates`). */
  truncated: boolean;
  updates: ObjectUpdate[];
}

const updateSetSchema = z.preprocess(
  absentIfEmpty,
  z.object({
    version: xmlText,
    truncated: xmlText.optional(),
    filterSet: many(z.object({
      filter: xmlMoRef,
      objectSet: many(z.object({
        kind: z.preprocess(
          (value) =>
            typeof value === "object" && value ? (value as { _text?: unknown })._text : value,
          z.enum(["enter", "modify", "leave"]),
        ),
        obj: xmlMoRef,
        changeSet: many(z.object({ name: xmlText, op: xmlText, val: z.unknown().optional() })),
      })),
    })),
  }).optional(),
);

/** A property collector of its own, so a long poll does not share filters with reads. */
export async function createPropertyCollector(
  client: VsphereClient,
  signal: AbortSignal,
): Promise<MoRef> {
  const { propertyCollector } = await client.serviceContent(signal);
  return await client.call("CreatePropertyCollector", propertyCollector, "", moRefReply, signal);
}

/** Creates a filter on `collector` for `specSet`; updates report whole values. */
export async function createFilter(
  client: VsphereClient,
  collector: MoRef,
  specSet: string,
  signal: AbortSignal,
): Promise<MoRef> {
  return await client.call(
    "CreateFilter",
    collector,
    element("spec", specSet) + textElement("partialUpdates", false),
    moRefReply,
    signal,
  );
}

/** Destroys one filter. */
export async function destroyPropertyFilter(
  client: VsphereClient,
  filter: MoRef,
  signal: AbortSignal,
): Promise<void> {
  await client.call("DestroyPropertyFilter", filter, "", voidReply, signal);
}

/** Destroys a property collector and its filters (best effort). */
export async function destroyPropertyCollector(
  client: VsphereClient,
  collector: MoRef,
  signal: AbortSignal,
): Promise<void> {
  await client.call("DestroyPropertyCollector", collector, "", voidReply, signal)
    .catch(() => undefined);
}

/**
 * Waits up to `maxWaitSeconds` for changes after `version` (`""`: everything, as `enter`
 * updates); `undefined` when nothing changed in that time.
 */
export async function waitForUpdates(
  client: VsphereClient,
  collector: MoRef,
  options: { version: string; maxWaitSeconds: number; maxObjectUpdates?: number },
  signal: AbortSignal,
): Promise<UpdateSet | undefined> {
  const result = await client.call(
    "WaitForUpdatesEx",
    collector,
    textElement("version", options.version) +
      element(
        "options",
        textElement("maxWaitSeconds", options.maxWaitSeconds) +
          textElement("maxObjectUpdates", options.maxObjectUpdates ?? 500),
      ),
    updateSetSchema,
    signal,
    { timeoutMs: (options.maxWaitSeconds + 30) * 1000 },
  );
  if (result === undefined) return undefined;
  return {
    version: result.version,
    truncated: result.truncated === "true",
    updates: result.filterSet.flatMap((set) =>
      set.objectSet.map((update) => ({
        kind: update.kind,
        obj: update.obj,
        changes: update.changeSet.map((change) => ({
          name: change.name,
          op: change.op,
          ...(change.val === undefined ? {} : { val: change.val as Plain }),
        })),
      }))
    ),
  };
}

/** `moRefList` again, for callers that build arguments of references. */
export { moRefList };
/** `one` again, for schemas of single nested values. */
export { one };
