/**
 * The tag APIs: CreateUserTag, CreateSystemTag, UpdateSystemTag, DeleteTag, and the user
 * and system tag query collections.
 *
 * @module
 */

import type { Tag } from "../inventory.ts";
import { createTag, deleteTag, updateSystemTag } from "../state/tags.ts";
import {
  type ApiSpec,
  defineApi,
  inventory,
  queryRoutes,
  type Route,
  uuidCommand,
} from "./api_spec.ts";
import { type Collection, collection, DATES } from "./collection.ts";

function tags(type: Tag["type"]): Collection {
  return collection<Tag>({
    path: `/${type.toLowerCase()}-tags`,
    voName: `${type}TagVO`,
    inventoryClass: `org.zstack.header.tag.${type}TagInventory`,
    fields: ["uuid", "resourceUuid", "resourceType", "tag", "type", "inherent", ...DATES],
    items: (state) => [...state.tags.values()].filter((tag) => tag.type === type),
  });
}

function createTagApi(type: Tag["type"]): ApiSpec {
  const apiClass = `org.zstack.header.tag.APICreate${type}TagMsg`;
  return defineApi(`Create${type}Tag`, ({ state, params }) =>
    inventory(createTag(state, {
      type,
      resourceType: params.requiredString("resourceType", apiClass),
      resourceUuid: params.requiredString("resourceUuid", apiClass),
      tag: params.requiredString("tag", apiClass),
    })), {
    fields: {
      resourceType: "string",
      resourceUuid: "string",
      tag: "string",
      resourceUuidOfTag: "string",
    },
  });
}

/** The routes of user and system tags. */
export const TAG_ROUTES: Route[] = [
  { method: "POST", pattern: "/v1/user-tags", api: createTagApi("User") },
  { method: "POST", pattern: "/v1/system-tags", api: createTagApi("System") },
  ...queryRoutes("QueryUserTag", tags("User")),
  ...queryRoutes("QuerySystemTag", tags("System")),
  {
    method: "PUT",
    pattern: "/v1/system-tags/{uuid}/actions",
    actions: {
      updateSystemTag: defineApi(
        "UpdateSystemTag",
        ({ state, path, params }) =>
          inventory(updateSystemTag(state, path.uuid, {
            tag: params.requiredString("tag", "org.zstack.header.tag.APIUpdateSystemTagMsg"),
          })),
        { fields: { tag: "string" } },
      ),
    },
  },
  { method: "DELETE", pattern: "/v1/tags/{uuid}", api: uuidCommand("DeleteTag", deleteTag) },
];
