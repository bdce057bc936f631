/**
 * Creating the server of a pod, as idempotently as Nova allows: a server that already
 * serves the pod's workload UID (an earlier attempt, a create whose answer was lost, the
 * server of a VirtualMachine whose VM-Pod was re-created) is found by its uid tag and
 * adopted, its metadata rewritten for the new pod. Otherwise the image, flavor and
 * networks are resolved, the first log line written, `POST /servers` sent once, and the
 * new server tracked. Two servers of one workload (a create repeated after a crash while
 * the first was still on its way) are left to the tracker, which keeps the oldest.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { InvalidInputError, UnavailableError } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import {
  type Server,
  serverCreatedSchema,
  serverListSchema,
  serverReplySchema,
} from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";
import {
  identityFromMetadata,
  identityKey,
  ownerTags,
  type ServerOwner,
  uidTag,
} from "./identity.ts";
import {
  annotationList,
  annotationValue,
  availabilityZoneOf,
  chooseFlavor,
  createRequestedText,
  flavorAnnotation,
  keyNameAnnotation,
  networkRefsOf,
  networksAnnotation,
  NO_NETWORK,
  securityGroupsAnnotation,
  serverCreateBody,
  type ServerRequest,
  serverSizeOf,
  type ValidatedPod,
} from "./pod_to_server.ts";
import type { NameResolver } from "./resolver.ts";
import { desiredMetadata, rememberPod } from "./server_metadata.ts";
import type { ServerTracker } from "./server_tracker.ts";
import { buildUserData } from "./user_data.ts";
import { decodePodSpec } from "./stored_spec.ts";
import { AnswerLostError } from "./transport.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/**
 * How long after a create lost its answer no other create of the workload is sent while
 * its server does not show: Nova may still be making it (a slow `POST /servers` goes on
 * after the client gave up), and a second create would make a second server.
 */
export const lostCreateGraceMs = 120_000;

/** What {@linkcode createServer} works with. */
export interface CreateServerOptions {
  validated: ValidatedPod;
  client: OpenStackClient;
  tracker: ServerTracker;
  resolver: NameResolver;
  config: OpenStackConfig;
  owner: ServerOwner;
  now: () => number;
  signal: AbortSignal;
}

/** The server of workload `uid` of this node, looked up by its uid tag; `undefined` if none. */
export async function findServerOfWorkload(
  client: OpenStackClient,
  options: { uid: string; owner: ServerOwner; signal: AbortSignal },
): Promise<Server | undefined> {
  const reply = await client.request("compute", "GET", "/servers/detail", {
    query: { tags: await uidTag(options.uid) },
    schema: serverListSchema,
    signal: options.signal,
  });
  return reply.value.servers
    .filter((server) =>
      !["DELETED", "SOFT_DELETED"].includes(server.status) &&
      identityFromMetadata(server.metadata, options.owner)?.uid === options.uid
    )
    .sort((a, b) => a.created.getTime() - b.created.getTime() || a.id.localeCompare(b.id))[0];
}

/** Resolves everything `POST /servers` needs for the pod. */
async function resolveRequest(pod: Pod, options: CreateServerOptions): Promise<ServerRequest> {
  const { validated, resolver, config, owner, signal } = options;
  const { identity, container } = validated;
  const image = await resolver.image(
    validated.image.kind === "id" ? validated.image.id : validated.image.name,
    signal,
  );
  const named = annotationValue(pod, flavorAnnotation);
  const flavor = chooseFlavor(
    await resolver.flavors(signal),
    serverSizeOf(container, config.defaults),
    {
      ...(named ? { named: { ref: named, annotation: flavorAnnotation } } : {}),
      defaultFlavor: config.flavors.default,
      allowed: config.flavors.allowed,
    },
  );
  const refs = networkRefsOf(pod) ?? config.networks.default;
  let networks: ServerRequest["networks"];
  if (refs.length === 1 && refs[0] === NO_NETWORK) {
    networks = NO_NETWORK;
  } else {
    if (refs.includes(NO_NETWORK)) {
      throw new InvalidInputError(
        `annotation ${networksAnnotation}: expected "none" alone or a list of networks, found ${
          refs.join(", ")
        }`,
      );
    }
    networks = [];
    for (const ref of refs) {
      const network = await resolver.network(ref, signal);
      networks.push({ id: network.id, name: network.name ?? network.id });
    }
  }
  const { metadata } = await desiredMetadata(pod, {
    identity,
    owner,
    existing: {},
    ...(networks === NO_NETWORK ? {} : { podNetwork: networks[0].name }),
  });
  const keyName = annotationValue(pod, keyNameAnnotation) ?? config.keyName;
  const securityGroups = annotationList(pod, securityGroupsAnnotation) ?? config.securityGroups;
  const availabilityZone = availabilityZoneOf(pod, config.availabilityZone);
  return {
    identity,
    image: { id: image.id, name: image.name ?? image.id },
    flavor,
    networks,
    metadata,
    tags: await ownerTags(identity, owner),
    userData: buildUserData(pod, container),
    ...(keyName ? { keyName } : {}),
    ...(securityGroups ? { securityGroups } : {}),
    ...(availabilityZone ? { availabilityZone } : {}),
  };
}

/** Tracks `server`, which exists already for the pod's workload, as the pod's. */
async function adopt(server: Server, pod: Pod, options: CreateServerOptions): Promise<void> {
  const { identity } = options.validated;
  const { server: bound } = await rememberPod(options.client, server, {
    pod,
    identity,
    owner: options.owner,
    signal: options.signal,
  });
  const known = options.tracker.byId(bound.id);
  if (known !== undefined) {
    known.stored = await decodePodSpec(bound.metadata);
    options.tracker.setPod(known, pod);
    options.tracker.observe(known, bound, new Date(options.now()));
    return;
  }
  options.tracker.track(bound, {
    identity,
    stored: await decodePodSpec(bound.metadata),
    desired: pod,
    adopted: true,
  });
}

/**
 * Creates the server of `pod`, or adopts the one that exists for its workload UID. Nova's
 * refusals become contract errors: an unknown image or flavor `InvalidInputError`, a quota
 * `ResourceExhaustedError`.
 */
export async function createServer(pod: Pod, options: CreateServerOptions): Promise<void> {
  const { validated, client, tracker, signal } = options;
  const { identity } = validated;
  const key = identityKey(identity);
  const what = `openstack provider: creating the server of pod ${key}`;
  let existing: Server | undefined;
  try {
    existing = await findServerOfWorkload(client, {
      uid: identity.uid,
      owner: options.owner,
      signal,
    });
  } catch (error) {
    throw toProviderError(error, what);
  }
  if (existing !== undefined) {
    tracker.clearLostCreate(identity.uid);
    logger.info("pod {pod}: server {id} already exists for its workload; adopting it", {
      pod: key,
      id: existing.id,
    });
    await adopt(existing, pod, options);
    return;
  }
  const lost = tracker.lostCreateAt(identity.uid);
  if (lost !== undefined && options.now() - lost < lostCreateGraceMs) {
    throw new UnavailableError(
      `${what}: the create sent ${
        Math.round((options.now() - lost) / 1000)
      } s ago had no answer, and Nova may still be making its server: waiting up to ${
        lostCreateGraceMs / 1000
      } s for it before creating another`,
    );
  }
  const request = await resolveRequest(pod, options);
  tracker.setPendingLog(identity.uid, [{
    time: new Date(options.now()),
    text: createRequestedText(request),
  }]);
  logger.info("pod {pod}: creating a server from image {image}, flavor {flavor}", {
    pod: key,
    image: request.image.name,
    flavor: request.flavor.name,
  });
  let id: string;
  try {
    const reply = await client.request("compute", "POST", "/servers", {
      body: serverCreateBody(request),
      schema: serverCreatedSchema,
      retry: "once",
      signal,
    });
    id = reply.value.server.id;
    logger.debug("pod {pod}: server {id} requested ({requestId})", {
      pod: key,
      id,
      requestId: reply.requestId ?? "no request id",
    });
  } catch (error) {
    tracker.dropPendingLog(identity.uid);
    if (error instanceof OpenStackHttpError && (error.status === 400 || error.status === 404)) {
      options.resolver.forget(); // an image or network named a moment ago may be gone
      throw toProviderError(error, what, { notFound: "invalid-input" });
    }
    if (error instanceof AnswerLostError) {
      // The answer was lost: the server may exist anyway; the next attempts look first.
      // (A refused connection never reached Nova, and a 5xx is Nova's answer.)
      tracker.noteLostCreate(identity.uid, options.now());
      logger.warn(
        "pod {pod}: the create's answer was lost ({error}); looking for its server next time",
        {
          pod: key,
          error: errorMessage(error),
        },
      );
    }
    throw toProviderError(error, what);
  }
  let server: Server;
  try {
    server = (await client.request("compute", "GET", `/servers/${id}`, {
      schema: serverReplySchema,
      signal,
    })).value.server;
  } catch (error) {
    throw toProviderError(error, `${what}: reading new server ${id}`);
  }
  const polled = tracker.byId(id);
  if (polled !== undefined) {
    // The poll saw the server meanwhile; keep what it logged.
    tracker.setPod(polled, pod);
    tracker.observe(polled, server, new Date(options.now()));
    return;
  }
  tracker.track(server, { identity, stored: await decodePodSpec(server.metadata), desired: pod });
}
