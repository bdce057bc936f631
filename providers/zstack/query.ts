/**
 * Query strings of ZStack's query APIs (`GET /v1/<collection>?q=...`): conditions
 * `name<op>value` without spaces, ANDed by repeating `q`; `limit`, `start`,
 * `replyWithCount`, `sort` (`+` sent as `%2B`) and one comma-joined `fields`.
 *
 * The server splits a condition at the first operator it finds, trying `!=`, `>=`, `<=`,
 * `!?=`, `!~=`, `~=`, `?=`, `=`, `>`, `<` in that order; a value containing an operator
 * tried before the intended one would be split in the wrong place, so such values are
 * refused here instead of silently querying something else.
 *
 * @module
 */

/** Query operators, in the order the server tries them. */
export const queryOperators = [
  "!=",
  ">=",
  "<=",
  "!?=",
  "!~=",
  "~=",
  "?=",
  "=",
  ">",
  "<",
  " is null",
  " not null",
] as const;

/** A query operator. */
export type QueryOperator = typeof queryOperators[number];

/** One condition of a query. */
export interface QueryCondition {
  /** Field, a join (`vmNics.ip`) or a tag pseudo-field (`__userTag__`). */
  field: string;
  /** Operator. */
  op: QueryOperator;
  /** Value; a list for `?=` and `!?=`; absent for `is null` and `not null`. */
  value?: string | readonly string[];
}

/** Everything a query request can carry besides the collection. */
export interface QueryOptions {
  /** Conditions, ANDed. */
  conditions?: readonly QueryCondition[];
  /** Page size; the server defaults to 1000. */
  limit?: number;
  /** Offset of the first result. */
  start?: number;
  /** Adds `total` beside `inventories`. */
  replyWithCount?: boolean;
  /** Sort field and direction. */
  sort?: { field: string; direction: "asc" | "desc" };
  /** Only these fields of each inventory. */
  fields?: readonly string[];
}

/** Thrown for a query the server would misread; a programming or input error. */
export class QueryBuildError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "QueryBuildError";
  }
}

const fieldPattern = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Shorthand for a `field=value` condition. */
export function eq(field: string, value: string): QueryCondition {
  return { field, op: "=", value };
}

/** Shorthand for a `field!=value` condition. */
export function ne(field: string, value: string): QueryCondition {
  return { field, op: "!=", value };
}

/** Shorthand for a `field~=pattern` (SQL LIKE: `%` any text, `_` one character) condition. */
export function like(field: string, pattern: string): QueryCondition {
  return { field, op: "~=", value: pattern };
}

/** Shorthand for a `field?=a,b` (IN) condition. */
export function isIn(field: string, values: readonly string[]): QueryCondition {
  return { field, op: "?=", value: values };
}

/** The condition as the server expects it, before URL encoding (`name=vm1`, `uuid?=a,b`). */
export function conditionText(condition: QueryCondition): string {
  const { field, op, value } = condition;
  if (!fieldPattern.test(field)) {
    throw new QueryBuildError(
      `query field: expected letters, digits, "_" and "." such as "vmNics.ip", found "${field}"`,
    );
  }
  if (op === " is null" || op === " not null") {
    if (value !== undefined) {
      throw new QueryBuildError(`query "${field}${op}": expected no value, found "${value}"`);
    }
    return `${field}${op}`;
  }
  let text: string;
  if (typeof value === "string") {
    if (op === "?=" || op === "!?=") {
      throw new QueryBuildError(`query "${field}${op}": expected a list of values, found a string`);
    }
    text = value;
  } else if (value !== undefined) {
    if (op !== "?=" && op !== "!?=") {
      throw new QueryBuildError(`query "${field}${op}": expected one value, found a list`);
    }
    if (value.length === 0) {
      throw new QueryBuildError(`query "${field}${op}": expected at least one value, found none`);
    }
    const withComma = value.find((item) => item.includes(","));
    if (withComma !== undefined) {
      throw new QueryBuildError(
        `query "${field}${op}": expected list values without ",", found "${withComma}"`,
      );
    }
    text = value.join(",");
  } else {
    throw new QueryBuildError(`query "${field}${op}": expected a value, found none`);
  }
  const position = queryOperators.indexOf(op);
  const earlier = queryOperators.slice(0, position).find((other) => text.includes(other));
  if (earlier !== undefined) {
    throw new QueryBuildError(
      `query "${field}${op}${text}": expected a value without "${earlier}", which the server would split on first`,
    );
  }
  return `${field}${op}${text}`;
}

/** URL-encodes a parameter value, keeping `=`, `:`, `/` and `,` readable (the server decodes them alike). */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value)
    .replaceAll("%3D", "=")
    .replaceAll("%3A", ":")
    .replaceAll("%2F", "/")
    .replaceAll("%2C", ",");
}

/**
 * Builds the query string (without `?`) of a query request, such as
 * `q=__userTag__=vkedge.io/node:c/n&q=type=UserVm&limit=100&replyWithCount=true`.
 */
export function buildQueryString(options: QueryOptions): string {
  const parts: string[] = [];
  for (const condition of options.conditions ?? []) {
    parts.push(`q=${encodeQueryValue(conditionText(condition))}`);
  }
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new QueryBuildError(`query limit: expected a positive integer, found ${options.limit}`);
    }
    parts.push(`limit=${options.limit}`);
  }
  if (options.start !== undefined) {
    if (!Number.isInteger(options.start) || options.start < 0) {
      throw new QueryBuildError(
        `query start: expected a non-negative integer, found ${options.start}`,
      );
    }
    parts.push(`start=${options.start}`);
  }
  if (options.replyWithCount) parts.push("replyWithCount=true");
  if (options.sort !== undefined) {
    const { field, direction } = options.sort;
    if (!fieldPattern.test(field)) {
      throw new QueryBuildError(`query sort: expected a field name, found "${field}"`);
    }
    parts.push(`sort=${direction === "asc" ? "%2B" : "-"}${field}`);
  }
  if (options.fields !== undefined && options.fields.length > 0) {
    const bad = options.fields.find((field) => !fieldPattern.test(field));
    if (bad !== undefined) {
      throw new QueryBuildError(`query fields: expected field names, found "${bad}"`);
    }
    // Only the first `fields` parameter is read, so they go comma-joined in one.
    parts.push(`fields=${options.fields.join(",")}`);
  }
  return parts.join("&");
}

/** Builds `key=a&key=b` for the list parameters of the capacity APIs. */
export function listParameters(key: string, values: readonly string[]): string {
  return values.map((value) => `${key}=${encodeQueryValue(value)}`).join("&");
}
