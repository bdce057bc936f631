/**
 * XML both ways for the vSphere Web Services (SOAP 1.1, vim25): small builders that escape
 * every value, and a parser that turns a reply into plain values for zod.
 *
 * Replies are parsed with fast-xml-parser (npm, no native code, no dependencies beyond
 * `strnum`, maintained and used by the AWS SDK for JavaScript). It keeps attributes and
 * leaves text untouched, which is what vim25 needs: `xsi:type` says which type a property
 * value is, `type` says which kind of managed object a reference names. The parsed tree is
 * then made plain ({@linkcode Plain}): an element with neither attributes nor children is
 * its text, one with attributes an object with `_text`, `_type` (`type`) and `_xsiType`
 * (`xsi:type`, without prefix), one with children an object of children by local name,
 * repeated children an array. Schemas read it with {@linkcode many} and {@linkcode one},
 * since a sequence of one element looks like a single child.
 *
 * @module
 */

import { XMLParser } from "fast-xml-parser";
import { z } from "zod";

/** A parsed element: text, an object of children and attributes, or repeated elements. */
export type Plain = string | PlainObject | Plain[];

/** An element with attributes or children. */
export interface PlainObject {
  [name: string]: Plain | undefined;
}

const attributePrefix = "@_";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: attributePrefix,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  alwaysCreateTextNode: true,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  processEntities: true,
  htmlEntities: false,
});

function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

function toPlain(element: Record<string, unknown>): Plain {
  const out: PlainObject = {};
  let text = "";
  let hasAttributes = false;
  let hasChildren = false;
  for (const [key, value] of Object.entries(element)) {
    if (key === "#text") {
      text = String(value);
    } else if (key.startsWith(attributePrefix)) {
      const attribute = key.slice(attributePrefix.length);
      if (attribute === "type") out._type = String(value);
      else if (localName(attribute) === "type") out._xsiType = localName(String(value));
      else continue; // xmlns declarations
      hasAttributes = true;
    } else if (!key.startsWith("?")) {
      const elements = (value as Record<string, unknown>[]).map(toPlain);
      out[localName(key)] = elements.length === 1 ? elements[0] : elements;
      hasChildren = true;
    }
  }
  if (!hasChildren && !hasAttributes) return text;
  if (!hasChildren) out._text = text;
  return out;
}

/** Parses an XML document into its root element, made plain; throws on malformed XML. */
export function parseXml(text: string): { name: string; value: Plain } {
  const document = parser.parse(text, true) as Record<string, unknown>;
  for (const [key, value] of Object.entries(document)) {
    if (key.startsWith("?") || key === "#text") continue;
    const [root] = value as Record<string, unknown>[];
    return { name: localName(key), value: toPlain(root) };
  }
  throw new Error("expected an XML document with a root element, found none");
}

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** One element `<name attributes>content</name>`; `content` must already be XML. */
export function element(
  name: string,
  content: string,
  attributes: Record<string, string> = {},
): string {
  const attrs = Object.entries(attributes).map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join("");
  return `<${name}${attrs}>${content}</${name}>`;
}

/** `<name>text</name>` with the text escaped; nothing for `undefined`. */
export function textElement(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : element(name, escapeXml(String(value)));
}

// ---------------------------------------------------------------------------
// Reading plain values
// ---------------------------------------------------------------------------

/** A schema for a repeated element: absent is `[]`, a single one a list of one. */
export function many<T extends z.ZodType>(schema: T): z.ZodType<z.output<T>[]> {
  return z.preprocess(
    (value) => value === undefined || value === "" ? [] : Array.isArray(value) ? value : [value],
    z.array(schema),
  ) as unknown as z.ZodType<z.output<T>[]>;
}

/** A schema for an element that appears once (the first of repeated ones). */
export function one<T extends z.ZodType>(schema: T): z.ZodType<z.output<T>> {
  return z.preprocess(
    (value) => Array.isArray(value) ? value[0] : value,
    schema,
  ) as unknown as z.ZodType<z.output<T>>;
}

function textOf(value: unknown): unknown {
  if (Array.isArray(value)) value = value[0];
  if (typeof value === "object" && value !== null && "_text" in value) {
    return (value as { _text: unknown })._text;
  }
  return value;
}

/** A text element (with or without `xsi:type`). */
export const xmlText: z.ZodType<string> = z.preprocess(textOf, z.string()) as unknown as z.ZodType<
  string
>;

/** An `xsd:int`/`xsd:long` element. */
export const xmlInt: z.ZodType<number> = z.preprocess(
  (value) => {
    const text = textOf(value);
    return typeof text === "string" && /^-?\d+$/.test(text.trim()) ? Number(text) : text;
  },
  z.number().int(),
) as unknown as z.ZodType<number>;

/** An `xsd:boolean` element. */
export const xmlBoolean: z.ZodType<boolean> = z.preprocess(
  (value) => {
    const text = textOf(value);
    return text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text;
  },
  z.boolean(),
) as unknown as z.ZodType<boolean>;

/** A ManagedObjectReference: the kind of object and its id. */
export interface MoRef {
  /** Kind, such as `VirtualMachine`. */
  type: string;
  /** Id, such as `vm-42`. */
  value: string;
}

/** A ManagedObjectReference element: `<x type="VirtualMachine">vm-42</x>`. */
export const xmlMoRef: z.ZodType<MoRef> = z.preprocess(
  (value) => Array.isArray(value) ? value[0] : value,
  z.object({ _type: z.string(), _text: z.string() }).transform((ref) => ({
    type: ref._type,
    value: ref._text.trim(),
  })),
) as unknown as z.ZodType<MoRef>;

/** The XML of a reference, as an argument named `name`. */
export function moRefElement(name: string, ref: MoRef): string {
  return element(name, escapeXml(ref.value), { type: ref.type });
}
