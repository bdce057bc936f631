/**
 * ZStack's query language for every `GET /v1/<collection>`: repeated `q=` conditions
 * (ANDed), `limit`, `start`, `count`, `replyWithCount`, `sort` and `fields`, with joins
 * (`vmNics.ip=...`) and the tag pseudo-fields `__userTag__` and `__systemTag__`.
 *
 * String comparisons ignore case, as MySQL's default `utf8_general_ci` collation of the
 * ZStack database does.
 *
 * @module
 */

import { HttpError, invalidArgument } from "./errors.ts";

/** The condition operators, in the order the server tries them (the first found wins). */
export const OPERATORS = [
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

/** One condition operator. */
export type Operator = typeof OPERATORS[number];

/** One parsed `q=` condition. */
export interface Condition {
  field: string;
  op: Operator;
  value: string;
}

/** A parsed query: conditions plus paging, counting, sorting and projection. */
export interface QueryRequest {
  conditions: Condition[];
  limit: number;
  start: number;
  count: boolean;
  replyWithCount: boolean;
  sort?: { field: string; ascending: boolean };
  fields?: string[];
}

/** How one resource type can be queried. */
export interface QueryTarget<T> {
  /** The VO class name, used in error messages (e.g. `VmInstanceVO`). */
  voName: string;
  /** The inventory class, for the reply's `schema`. */
  inventoryClass: string;
  /** The fields a condition, `sort` or `fields` may name. */
  fields: readonly string[];
  /** Joined resources by field name: an object, a list of objects, or nothing. */
  joins?: Record<string, (item: T) => unknown>;
  /** User and system tags of an item, for `__userTag__` and `__systemTag__`. */
  tags?: (item: T) => { user: string[]; system: string[] };
}

/** What a query answers before serialization. */
export interface QueryResult<T> {
  inventories?: (T | Record<string, unknown>)[];
  total?: number;
}

/** The `limit` the server applies when none is given. */
export const DEFAULT_LIMIT = 1000;

/** Parses one `q=` condition; no operator gives 400. */
export function parseCondition(text: string): Condition {
  for (const op of OPERATORS) {
    const at = text.indexOf(op);
    if (at < 0) continue;
    return { field: text.slice(0, at), op, value: text.slice(at + op.length) };
  }
  // The exact wording of this 400 is not in the reference; the status is.
  throw new HttpError(400, `invalid query condition[${text}], no operator found`);
}

function nonNegativeInteger(params: URLSearchParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (text === null) return fallback;
  if (!/^\d+$/.test(text.trim())) {
    throw new HttpError(
      400,
      `Invalid query parameter[${name}], the value[${text}] is not a number`,
    );
  }
  return Number(text.trim());
}

/** Parses the query string of a query API. */
export function parseQuery(params: URLSearchParams): QueryRequest {
  const request: QueryRequest = {
    conditions: params.getAll("q").map(parseCondition),
    limit: nonNegativeInteger(params, "limit", DEFAULT_LIMIT),
    start: nonNegativeInteger(params, "start", 0),
    count: params.get("count") === "true",
    replyWithCount: params.get("replyWithCount") === "true",
  };
  const sort = params.get("sort")?.trim();
  if (sort) {
    const signed = sort.startsWith("+") || sort.startsWith("-");
    request.sort = { field: signed ? sort.slice(1) : sort, ascending: !sort.startsWith("-") };
  }
  // Only the first `fields` parameter is read.
  const fields = params.get("fields");
  if (fields) request.fields = fields.split(",").map((field) => field.trim()).filter(Boolean);
  return request;
}

const NEGATIVE: Partial<Record<Operator, Operator>> = { "!=": "=", "!?=": "?=", "!~=": "~=" };

function likeToRegExp(pattern: string): RegExp {
  let source = "";
  for (const char of pattern) {
    if (char === "%") source += ".*";
    else if (char === "_") source += ".";
    else source += char.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "is");
}

function compare(actual: unknown, operand: string): number {
  if (typeof actual === "number") return actual - Number(operand);
  if (actual instanceof Date) {
    const parsed = /^\d+$/.test(operand) ? Number(operand) : Date.parse(operand);
    return actual.getTime() - parsed;
  }
  const left = String(actual).toLowerCase();
  const right = operand.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

function equals(actual: unknown, operand: string): boolean {
  if (typeof actual === "boolean") return String(actual) === operand.toLowerCase();
  return compare(actual, operand) === 0;
}

/** Whether one non-null value satisfies a positive operator. */
function matches(actual: unknown, op: Operator, operand: string): boolean {
  switch (op) {
    case "=":
      return equals(actual, operand);
    case "?=":
      return operand.split(",").some((item) => equals(actual, item));
    case "~=":
      return likeToRegExp(operand).test(String(actual));
    case ">":
      return compare(actual, operand) > 0;
    case "<":
      return compare(actual, operand) < 0;
    case ">=":
      return compare(actual, operand) >= 0;
    case "<=":
      return compare(actual, operand) <= 0;
    default:
      return false;
  }
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** The values at `path` below `value`, flattening lists on the way. */
function valuesAt(value: unknown, path: string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, path));
  if (path.length === 0) return isPresent(value) ? [value] : [];
  if (value === null || typeof value !== "object") return [];
  return valuesAt((value as Record<string, unknown>)[path[0]], path.slice(1));
}

function evaluate<T extends object>(
  target: QueryTarget<T>,
  item: T,
  condition: Condition,
): boolean {
  const { field, op, value } = condition;
  let values: unknown[];
  let multiValued: boolean;
  if (field === "__userTag__" || field === "__systemTag__") {
    const tags = target.tags?.(item) ?? { user: [], system: [] };
    values = field === "__userTag__" ? tags.user : tags.system;
    multiValued = true;
  } else {
    const [head, ...rest] = field.split(".");
    const join = target.joins?.[head];
    const root = join ? join(item) : (item as Record<string, unknown>)[head];
    values = valuesAt(root, rest);
    multiValued = join !== undefined || rest.length > 0 || Array.isArray(root);
  }
  if (op === " is null") return values.length === 0;
  if (op === " not null") return values.length > 0;
  const positive = NEGATIVE[op];
  if (positive === undefined) return values.some((actual) => matches(actual, op, value));
  // A negative operator on a join or tag means "resources without a match"; on a column
  // it is SQL's `!=`, which a NULL column never satisfies.
  if (multiValued) return !values.some((actual) => matches(actual, positive, value));
  return values.length > 0 && !matches(values[0], positive, value);
}

function checkField<T>(target: QueryTarget<T>, field: string): void {
  if (field === "__userTag__" || field === "__systemTag__") return;
  const head = field.split(".")[0];
  if (target.fields.includes(head) || target.joins?.[head] !== undefined) return;
  // The reference gives the code (SYS.1007) but not the wording.
  throw invalidArgument(`entity[${target.voName}] doesn't have field[${head}]`);
}

function sortKey(item: object, field: string): unknown {
  return (item as Record<string, unknown>)[field];
}

/** Runs `request` over `items`, the whole collection of one resource type. */
export function runQuery<T extends object>(
  target: QueryTarget<T>,
  items: readonly T[],
  request: QueryRequest,
): QueryResult<T> {
  for (const condition of request.conditions) checkField(target, condition.field);
  if (request.sort) checkField(target, request.sort.field);
  for (const field of request.fields ?? []) checkField(target, field);

  const matched = items.filter((item) =>
    request.conditions.every((condition) => evaluate(target, item, condition))
  );
  if (request.count) return { total: matched.length };

  const sort = request.sort;
  if (sort) {
    const sign = sort.ascending ? 1 : -1;
    matched.sort((a, b) => {
      const left = sortKey(a, sort.field);
      const right = sortKey(b, sort.field);
      // MySQL puts NULL first in ascending order.
      if (!isPresent(left) || !isPresent(right)) {
        return sign * (Number(isPresent(left)) - Number(isPresent(right)));
      }
      const l = left instanceof Date ? left.getTime() : left;
      const r = right instanceof Date ? right.getTime() : right;
      if (typeof l === "number" && typeof r === "number") return sign * (l - r);
      return sign * compare(l, String(r));
    });
  }
  const page = matched.slice(request.start, request.start + request.limit);
  const fields = request.fields;
  const inventories = fields
    ? page.map((item) => Object.fromEntries(fields.map((field) => [field, sortKey(item, field)])))
    : page;
  const result: QueryResult<T> = { inventories };
  if (request.replyWithCount) result.total = matched.length;
  return result;
}
