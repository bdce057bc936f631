/**
 * How a resource type looks to the query APIs (`GET /v1/<collection>`): its VO and
 * inventory class, the fields a condition may name, its expanded queries (joins such as
 * `vmNics.l3Network` or `host.vmInstance`, each a key of one inventory matched against a
 * key of another, as ZStack's `@ExpandedQuery` declares them), its tags, and where its
 * items come from. The route modules declare their collections with it.
 *
 * @module
 */

import type { Auth } from "../auth.ts";
import type { QueryTarget } from "../query.ts";
import type { SimState, StoreName } from "../state/store.ts";
import { tagsOf } from "../state/tags.ts";

/** An expanded query: the items of `store` whose `key` equals this item's `foreignKey`. */
export interface Join {
  store: StoreName;
  foreignKey: string;
  key: string;
}

/** A resource type as the query APIs see it, and where its items come from. */
export interface Collection {
  /** Where the query API lives below `/v1`, e.g. `/vm-instances`. */
  path: string;
  voName: string;
  inventoryClass: string;
  fields: readonly string[];
  /** The inventory map the items are, or a function that lists them. */
  items: StoreName | ((state: SimState, auth: Auth) => object[]);
  joins?: Record<string, Join>;
}

/** A collection whose `fields` are checked against the inventory type `T`. */
export interface CollectionSpec<T extends object> extends Collection {
  fields: readonly (keyof T & string)[];
  items: StoreName | ((state: SimState, auth: Auth) => T[]);
}

/** The fields every inventory has. */
export const DATES = ["createDate", "lastOpDate"] as const;

/** Declares the collection of inventory type `T`. */
export function collection<T extends object>(spec: CollectionSpec<T>): Collection {
  return spec;
}

/** The one item of `store` whose uuid is this item's `foreignKey` (e.g. a VM's `zoneUuid`). */
export function belongsTo(store: StoreName, foreignKey: string): Join {
  return { store, foreignKey, key: "uuid" };
}

/** The items of `store` whose `key` is this item's uuid (e.g. the VMs of a host). */
export function hasMany(store: StoreName, key: string): Join {
  return { store, foreignKey: "uuid", key };
}

function field(item: object, name: string): unknown {
  return (item as Record<string, unknown>)[name];
}

function resolve(state: SimState, join: Join): (item: object) => unknown {
  const items = state.store(join.store);
  if (join.key === "uuid") {
    return (item) => {
      const uuid = field(item, join.foreignKey);
      return typeof uuid === "string" ? items.get(uuid) : undefined;
    };
  }
  return (item) => {
    const value = field(item, join.foreignKey);
    return [...items.values()].filter((other) => field(other, join.key) === value);
  };
}

/** The items of `collection` as they are now. */
export function collectionItems(
  collection: Collection,
  from: { state: SimState; auth: Auth },
): object[] {
  const { items } = collection;
  return typeof items === "string"
    ? [...from.state.store(items).values()]
    : items(from.state, from.auth);
}

/** The query target of `collection` over the live `state`, tags included. */
export function queryTarget(collection: Collection, state: SimState): QueryTarget<object> {
  const joins = collection.joins;
  return {
    voName: collection.voName,
    inventoryClass: collection.inventoryClass,
    fields: collection.fields,
    joins: joins &&
      Object.fromEntries(Object.entries(joins).map(([name, join]) => [name, resolve(state, join)])),
    tags: (item) => tagsOf(state, String(field(item, "uuid") ?? "")),
  };
}
