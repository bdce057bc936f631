/**
 * Service-link environment variables (`<NAME>_SERVICE_HOST`, `<NAME>_PORT_<n>_TCP`, …), as
 * the kubelet sets them for the services of the pod's namespace and the master service.
 *
 * @module
 */

import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { EnvSources } from "./env.ts";

const MASTER_SERVICE = "kubernetes";

/**
 * Service-link variables: the master `kubernetes` service always, and the
 * pod's namespace's services unless `enableServiceLinks` is false (a service of
 * the pod's own namespace named `kubernetes` takes precedence over the master one).
 */
export function serviceEnv(
  pod: Pod,
  sources: Pick<EnvSources, "listServices">,
  masterNamespace: string,
): Map<string, string> {
  const services = new Map<string, Service>();
  if (pod.spec?.enableServiceLinks !== false) {
    for (const service of sources.listServices(pod.metadata?.namespace ?? "")) {
      const name = service.metadata?.name;
      if (name && hasClusterIP(service)) services.set(name, service);
    }
  }
  if (!services.has(MASTER_SERVICE)) {
    const master = sources.listServices(masterNamespace).find((service) =>
      service.metadata?.name === MASTER_SERVICE && hasClusterIP(service)
    );
    if (master) services.set(MASTER_SERVICE, master);
  }
  const env = new Map<string, string>();
  for (const name of [...services.keys()].sort()) {
    for (const [key, value] of serviceVars(name, services.get(name)!)) env.set(key, value);
  }
  return env;
}

function hasClusterIP(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return !!ip && ip !== "None";
}

function envName(name: string): string {
  return name.toUpperCase().replaceAll("-", "_");
}

function serviceVars(name: string, service: Service): [string, string][] {
  const prefix = envName(name);
  const ip = service.spec!.clusterIP!;
  const host = ip.includes(":") ? `[${ip}]` : ip;
  const ports = service.spec?.ports ?? [];
  const vars: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip]];
  ports.forEach((port, i) => {
    const number = String(port.port);
    const protocol = port.protocol || "TCP";
    const url = `${protocol.toLowerCase()}://${host}:${number}`;
    if (i === 0) vars.push([`${prefix}_SERVICE_PORT`, number], [`${prefix}_PORT`, url]);
    if (port.name) vars.push([`${prefix}_SERVICE_PORT_${envName(port.name)}`, number]);
    const link = `${prefix}_PORT_${number}_${protocol.toUpperCase()}`;
    vars.push(
      [link, url],
      [`${link}_PROTO`, protocol.toLowerCase()],
      [`${link}_PORT`, number],
      [`${link}_ADDR`, ip],
    );
  });
  return vars;
}
