/**
 * API parameters as the REST layer hands them over: the JSON types it checks before an API
 * is accepted (400 with Gson's wording on a mismatch), typed reads of checked parameters,
 * and the list parameters of GET calls.
 *
 * @module
 */

import { HttpError, missingField } from "../errors.ts";

/** The JSON types the REST layer checks before an API is accepted. */
export type FieldType = "string" | "int" | "long" | "boolean" | "stringList" | "longList" | "map";

/** The parameters of one API call, type-checked already. */
export class Params {
  /** The params object (or action object) of the body, or the query string of a DELETE. */
  readonly raw: Record<string, unknown>;

  /** Wraps checked parameters. */
  constructor(raw: Record<string, unknown>) {
    this.raw = raw;
  }

  /** A string parameter. */
  string(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : String(value);
  }

  /** A numeric parameter (JSON numbers, or strings of digits as Gson accepts them). */
  number(name: string): number | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : Number(value);
  }

  /** A boolean parameter. */
  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : value === true || value === "true";
  }

  /** A mandatory string parameter, or SYS.1007 naming it and the API class. */
  requiredString(name: string, apiClass: string): string {
    const value = this.string(name);
    if (value === undefined) throw missingField(name, apiClass);
    return value;
  }

  /** A mandatory numeric parameter, or SYS.1007 naming it and the API class. */
  requiredNumber(name: string, apiClass: string): number {
    const value = this.number(name);
    if (value === undefined) throw missingField(name, apiClass);
    return value;
  }

  /** A list of strings. */
  strings(name: string): string[] | undefined {
    const value = this.raw[name];
    return Array.isArray(value) ? value.map(String) : undefined;
  }

  /** A list of numbers. */
  numbers(name: string): number[] | undefined {
    const value = this.raw[name];
    return Array.isArray(value) ? value.map(Number) : undefined;
  }

  /** Every parameter of `fields`, each read as its type says (absent ones undefined). */
  read(fields: Record<string, FieldType>): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(fields).map(([name, type]) => [name, this.#readAs(name, type)]),
    );
  }

  #readAs(name: string, type: FieldType): unknown {
    switch (type) {
      case "string":
        return this.string(name);
      case "int":
      case "long":
        return this.number(name);
      case "boolean":
        return this.boolean(name);
      case "stringList":
        return this.strings(name);
      case "longList":
        return this.numbers(name);
      case "map":
        return this.raw[name];
    }
  }
}

function describeValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function isInteger(value: unknown): boolean {
  if (typeof value === "number") return Number.isInteger(value);
  return typeof value === "string" && /^-?\d+$/.test(value.trim());
}

/** Whether `value` is of JSON type `type` as Gson would accept it. */
function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "int":
    case "long":
      return isInteger(value);
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "string":
      return typeof value !== "object";
    case "stringList":
      return Array.isArray(value) && !value.some((item) => typeof item === "object");
    case "longList":
      return Array.isArray(value) && value.every(isInteger);
    case "map":
      return typeof value === "object" && !Array.isArray(value);
  }
}

const EXPECTED: Record<FieldType, string> = {
  int: "an int or long",
  long: "an int or long",
  boolean: "a boolean",
  string: "a string",
  stringList: "a list",
  longList: "a list of int or long",
  map: "a map",
};

/** Checks JSON types as the REST layer does before the API is accepted (400 on a mismatch). */
export function checkFieldTypes(
  raw: Record<string, unknown>,
  fields: Record<string, FieldType>,
): void {
  for (const [name, type] of Object.entries(fields)) {
    const value = raw[name];
    if (value === undefined || value === null || hasType(value, type)) continue;
    throw new HttpError(
      400,
      `[${name}] field is excepted ${EXPECTED[type]}, but was [${describeValue(value)}].`,
    );
  }
}

/** List parameters of GET calls: repeated keys, or `key.0`, `key.1`, ... */
export function listParam(query: URLSearchParams, name: string): string[] {
  const values = query.getAll(name).flatMap((value) => value.split(",")).filter(Boolean);
  for (const [key, value] of query) {
    if (key.startsWith(`${name}.`) && value) values.push(value);
  }
  return values;
}
