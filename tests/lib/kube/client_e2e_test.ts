/**
 * The Kubernetes client against a real kube-apiserver: CRUD on core objects,
 * typed errors, preconditions, both authentication methods and MicroTime.
 */

import type { ConfigMap, Pod, ServiceAccount } from "kubernetes-types/core/v1.d.ts";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { cluster, kubectl, kubectlJson } from "../../_harness/cluster.ts";
import {
  CONFIG_MAPS,
  formatMicroTime,
  KubeAlreadyExistsError,
  KubeClient,
  KubeConfigError,
  KubeConflictError,
  KubeForbiddenError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeUnauthorizedError,
  LEASES,
  loadKubeConfig,
  parseKubeTime,
  PODS,
  retryOnConflict,
  SERVICE_ACCOUNTS,
} from "../../../lib/kube/mod.ts";
import { withNamespace } from "./_e2e.ts";

function pod(name: string): Pod {
  return {
    metadata: { name, labels: { app: "e2e" } },
    spec: {
      containers: [
        { name: "app", image: "registry.example/app:1" },
        { name: "sidecar", image: "registry.example/sidecar:1" },
      ],
    },
  };
}

Deno.test("ConfigMap create, get, list, update and delete round-trip through the API", async () => {
  await withNamespace("kube-cm", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const created = await cms.create({ metadata: { name: "settings" }, data: { mode: "a" } });
    assertEquals(created.metadata?.namespace, ns);
    assert(created.metadata?.uid);

    const read = await cms.get("settings");
    assertEquals(read.data, { mode: "a" });

    const updated = await cms.update({ ...read, data: { mode: "b" } });
    assertEquals(updated.data, { mode: "b" });
    assert(updated.metadata?.resourceVersion !== read.metadata?.resourceVersion);
    assertEquals(
      await kubectl(["get", "configmap", "settings", "-n", ns, "-o", "jsonpath={.data.mode}"]),
      "b",
    );

    const list = await cms.list();
    assertEquals(list.items.map((i) => i.metadata?.name).includes("settings"), true);
    assert(list.metadata.resourceVersion);

    const deleted = await cms.delete("settings") as Status;
    assertEquals(deleted.status, "Success");
    await assertRejects(() => cms.get("settings"), KubeNotFoundError);
  });
});

Deno.test("Pod create, label update, status update and delete with grace period 0", async () => {
  await withNamespace("kube-pod", async (client, ns) => {
    const pods = client.resource<Pod>(PODS, ns);
    const created = await pods.create(pod("web"));
    assertEquals(created.status?.phase, "Pending");
    assertEquals(created.spec?.serviceAccountName, "default");
    // The scheduler writes the pod too (Unschedulable), so read-modify-write may conflict.
    const labelled = await retryOnConflict(async () => {
      const latest = await pods.get("web");
      return await pods.update({
        ...latest,
        metadata: { ...latest.metadata, labels: { app: "e2e", tier: "front" } },
      });
    });
    assertEquals(labelled.metadata?.labels?.tier, "front");
    const withStatus = await retryOnConflict(async () => {
      const latest = await pods.get("web");
      return await pods.updateStatus({
        ...latest,
        status: { ...latest.status, message: "set by lib/kube e2e" },
      });
    });
    assertEquals(withStatus.status?.message, "set by lib/kube e2e");
    const fromKubectl = await kubectlJson<Pod>(["get", "pod", "web", "-n", ns]);
    assertEquals(fromKubectl.metadata?.labels?.tier, "front");
    assertEquals(fromKubectl.status?.message, "set by lib/kube e2e");
    await pods.delete("web", { gracePeriodSeconds: 0 });
    await assertRejects(() => pods.get("web"), KubeNotFoundError);
  });
});

Deno.test("typed errors: NotFound, AlreadyExists, Invalid carry the API Status", async () => {
  await withNamespace("kube-err", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const missing = await assertRejects(() => cms.get("nope"), KubeNotFoundError);
    assertEquals(missing.httpCode, 404);
    assertEquals(missing.status.details?.name, "nope");

    await cms.create({ metadata: { name: "once" } });
    const twice = await assertRejects(
      () => cms.create({ metadata: { name: "once" } }),
      KubeAlreadyExistsError,
    );
    assertEquals(twice.httpCode, 409);
    assertEquals(twice.reason, "AlreadyExists");

    const invalid = await assertRejects(
      () => cms.create({ metadata: { name: "Not_Valid" } }),
      KubeInvalidError,
    );
    assertEquals(invalid.httpCode, 422);
    assertEquals(invalid.status.details?.causes?.[0].field, "metadata.name");
  });
});

Deno.test("updating with a stale resourceVersion throws KubeConflictError", async () => {
  await withNamespace("kube-stale", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const original = await cms.create({ metadata: { name: "c" }, data: { v: "1" } });
    await cms.update({ ...original, data: { v: "2" } });
    const error = await assertRejects(
      () => cms.update({ ...original, data: { v: "3" } }),
      KubeConflictError,
    );
    assertEquals(error.httpCode, 409);
    assertEquals((await cms.get("c")).data, { v: "2" });
  });
});

Deno.test("delete with a mismatching UID precondition throws KubeConflictError and keeps the object", async () => {
  await withNamespace("kube-precond", async (client, ns) => {
    const cms = client.resource<ConfigMap>(CONFIG_MAPS, ns);
    const created = await cms.create({ metadata: { name: "keep" } });
    await assertRejects(
      () => cms.delete("keep", { preconditions: { uid: "00000000-0000-0000-0000-000000000000" } }),
      KubeConflictError,
    );
    assertEquals((await cms.get("keep")).metadata?.uid, created.metadata?.uid);
    await cms.delete("keep", { preconditions: { uid: created.metadata?.uid } });
    await assertRejects(() => cms.get("keep"), KubeNotFoundError);
  });
});

Deno.test("a ServiceAccount token without RBAC rights gets KubeForbiddenError, a bogus token KubeUnauthorizedError", async () => {
  await withNamespace("kube-rbac", async (client, ns) => {
    const c = await cluster();
    await client.resource<ServiceAccount>(SERVICE_ACCOUNTS, ns).create({
      metadata: { name: "nobody" },
    });
    const token = (await kubectl(["create", "token", "nobody", "-n", ns])).trim();
    const caPem = await Deno.readTextFile(c.caFile);
    const limited = new KubeClient({
      server: c.server,
      namespace: ns,
      caPem,
      token,
      source: "test",
    });
    try {
      const error = await assertRejects(
        () => limited.resource<ConfigMap>(CONFIG_MAPS, ns).list(),
        KubeForbiddenError,
      );
      assertStringIncludes(error.message, `system:serviceaccount:${ns}:nobody`);
      assertEquals(error.message.includes(token), false);
    } finally {
      limited.close();
    }
    const bogus = new KubeClient({
      server: c.server,
      namespace: ns,
      caPem,
      token: "not-a-real-token",
      source: "test",
    });
    try {
      const error = await assertRejects(
        () => bogus.resource(CONFIG_MAPS, ns).list(),
        KubeUnauthorizedError,
      );
      assertEquals(error.message.includes("not-a-real-token"), false);
    } finally {
      bogus.close();
    }
  });
});

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string; groups?: string[] } };
}

async function whoAmI(kubeconfig: string): Promise<string | undefined> {
  const client = new KubeClient(await loadKubeConfig({ path: kubeconfig }));
  try {
    const review = await client.request<SelfSubjectReview>({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    await client.resource(CONFIG_MAPS, "default").list({ limit: 1 });
    return review.status?.userInfo?.username;
  } finally {
    client.close();
  }
}

Deno.test("client-certificate and bearer-token kubeconfigs both authenticate as their users", async () => {
  const c = await cluster();
  const certUser = await whoAmI(c.kubeconfig);
  const tokenUser = await whoAmI(c.tokenKubeconfig);
  assert(certUser !== undefined && certUser !== "system:anonymous", `cert user ${certUser}`);
  assert(tokenUser !== undefined && tokenUser !== "system:anonymous", `token user ${tokenUser}`);
  const kubectlUser = await kubectl([
    "auth",
    "whoami",
    "-o",
    "jsonpath={.status.userInfo.username}",
  ]);
  assertEquals(certUser, kubectlUser);
});

Deno.test("a kubeconfig whose certificate-authority file is missing fails naming the field", async () => {
  const c = await cluster();
  const dir = await Deno.makeTempDir({ prefix: "kube-badcfg-" });
  try {
    const text = await Deno.readTextFile(c.kubeconfig);
    const broken = text.replace(
      /certificate-authority-data: .*/,
      "certificate-authority: missing/ca.crt",
    );
    await Deno.writeTextFile(`${dir}/config`, broken);
    const contextCluster = (await kubectl([
      "config",
      "view",
      "--kubeconfig",
      c.kubeconfig,
      "-o",
      "jsonpath={.clusters[0].name}",
    ]))
      .trim();
    const error = await assertRejects(
      () => loadKubeConfig({ path: `${dir}/config` }),
      KubeConfigError,
    );
    assertEquals(
      error.message,
      `clusters[${contextCluster}].cluster.certificate-authority: cannot read ${dir}/missing/ca.crt: No such file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Lease renewTime written with formatMicroTime is accepted and read back exactly", async () => {
  await withNamespace("kube-lease", async (client, ns) => {
    const leases = client.resource<Lease>(LEASES, ns);
    const now = new Date();
    const renewTime = formatMicroTime(now);
    await leases.create({
      metadata: { name: "holder" },
      spec: {
        holderIdentity: "vkedge",
        leaseDurationSeconds: 40,
        renewTime,
        acquireTime: renewTime,
      },
    });
    const read = await leases.get("holder");
    assertEquals(read.spec?.renewTime, renewTime);
    assertEquals(parseKubeTime(read.spec?.renewTime ?? "").getTime(), now.getTime());
    const viaKubectl = await kubectl([
      "get",
      "lease",
      "holder",
      "-n",
      ns,
      "-o",
      "jsonpath={.spec.renewTime}",
    ]);
    assertEquals(viaKubectl, renewTime);

    const later = formatMicroTime(new Date(now.getTime() + 10_000));
    const renewed = await leases.patch("holder", { spec: { renewTime: later } });
    assertEquals(renewed.spec?.renewTime, later);
  });
});

Deno.test("pods/eviction is reachable as a subresource POST", async () => {
  await withNamespace("kube-evict", async (client, ns) => {
    const pods = client.resource<Pod>(PODS, ns);
    await pods.create(pod("victim"));
    const answer = await pods.subresource("victim", "eviction").post<Status>({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "victim", namespace: ns },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
    assertEquals(answer.status, "Success");
    const error = await assertRejects(() => pods.get("victim"), KubeNotFoundError);
    assertInstanceOf(error, KubeNotFoundError);
  });
});
