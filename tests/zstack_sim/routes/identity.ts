/**
 * The identity APIs: account login (user login always fails, there are no IAM users),
 * logout, session validation and renewal, and the access keys of AccessKey-signed
 * requests with their query collection.
 *
 * @module
 */

import type { AccessKey } from "../auth.ts";
import { ApiError, errorCode, invalidArgument } from "../errors.ts";
import { type ApiOptions, defineApi, inventory, queryRoutes, type Route } from "./api_spec.ts";
import { collection, DATES } from "./collection.ts";

const ACCESS_KEYS = collection<AccessKey>({
  path: "/accesskeys",
  voName: "AccessKeyVO",
  inventoryClass: "org.zstack.accessKey.AccessKeyInventory",
  fields: [
    "uuid",
    "accountUuid",
    "userUuid",
    "AccessKeyID",
    "AccessKeySecret",
    "description",
    "state",
    ...DATES,
  ],
  items: (_state, auth) => auth.accessKeys(),
});

/** The session APIs answer at once and need no Authorization header. */
const SESSION: ApiOptions = { kind: "sync", authenticated: false };

/** The routes of the identity APIs. */
export const IDENTITY_ROUTES: Route[] = [
  {
    method: "PUT",
    pattern: "/v1/accounts/login",
    actions: {
      logInByAccount: defineApi(
        "LogInByAccount",
        ({ auth, params }) =>
          inventory(auth.login(params.string("accountName"), params.string("password"))),
        {
          ...SESSION,
          fields: {
            accountName: "string",
            password: "string",
            accountType: "string",
            clientInfo: "map",
          },
        },
      ),
    },
  },
  {
    method: "PUT",
    pattern: "/v1/accounts/users/login",
    actions: {
      // Only the admin account exists; there are no IAM users to log in as.
      logInByUser: defineApi("LogInByUser", () => {
        throw new ApiError(errorCode("ID.1000", "wrong account name or password"));
      }, SESSION),
    },
  },
  {
    method: "DELETE",
    pattern: "/v1/accounts/sessions/{uuid}",
    api: defineApi("LogOut", ({ auth, path }) => {
      auth.logout(path.uuid);
      return {};
    }, SESSION),
  },
  {
    method: "GET",
    pattern: "/v1/accounts/sessions/{uuid}/valid",
    api: defineApi(
      "ValidateSession",
      ({ auth, path }) => ({ valid: auth.isValid(path.uuid) }),
      SESSION,
    ),
  },
  {
    method: "PUT",
    pattern: "/v1/accounts/sessions/{uuid}/renew",
    actions: {
      renewSession: defineApi("RenewSession", ({ auth, path, params }) => {
        const duration = params.number("duration");
        if (duration !== undefined && (duration < 60 || duration > 31536000)) {
          throw invalidArgument(
            `field[duration] of message[org.zstack.header.identity.APIRenewSessionMsg] must be in range of [60, 31536000]`,
          );
        }
        return inventory(auth.renew(path.uuid, duration));
      }, { fields: { duration: "long" } }),
    },
  },
  {
    method: "POST",
    pattern: "/v1/accesskeys",
    api: defineApi("CreateAccessKey", ({ auth, params }) =>
      inventory(auth.createAccessKey({
        AccessKeyID: params.string("AccessKeyID"),
        AccessKeySecret: params.string("AccessKeySecret"),
        description: params.string("description"),
      })), {
      fields: {
        accountUuid: "string",
        userUuid: "string",
        description: "string",
        AccessKeyID: "string",
        AccessKeySecret: "string",
      },
    }),
  },
  ...queryRoutes("QueryAccessKey", ACCESS_KEYS),
];
