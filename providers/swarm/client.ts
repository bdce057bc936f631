/**
 * The Docker Engine API calls the swarm provider makes, each reply checked with its zod
 * schema: services, tasks, nodes and networks of the Swarm, the event stream, task logs
 * and exec. Filters are the Engine's JSON map of lists (`{"label": ["k=v"]}`).
 *
 * @module
 */

import type { z } from "zod";
import {
  type EngineEvent,
  type EngineInfo,
  type EngineVersion,
  eventSchema,
  execCreatedSchema,
  execInspectSchema,
  infoSchema,
  type Network,
  networkCreatedSchema,
  networkSchema,
  nodeSchema,
  type Service,
  serviceCreatedSchema,
  serviceSchema,
  type ServiceSpec,
  type SwarmNode,
  type Task,
  taskSchema,
  versionSchema,
} from "./api_types.ts";
import type { HijackedStream } from "./transport.ts";
import { chunksUntil, EngineTransport, type EngineTransportOptions } from "./transport.ts";

/** Engine list filters: each key ORs its values, keys AND. */
export type Filters = Record<string, string[]>;

/** Options of a task log request, as the Engine takes them. */
export interface TaskLogQuery {
  /** Lines from the end. */
  tail?: number;
  /** Only lines at or after this Unix time (seconds, fractions allowed). */
  since?: number;
  /** Keep the stream open for new lines. */
  follow?: boolean;
}

/** What to run with `execCreate`. */
export interface ExecCreate {
  Cmd: string[];
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `${what}: expected the Engine API 1.41 reply shape, found ${
        result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")
      }`,
    );
  }
  return result.data;
}

/** The Engine API client. */
export class EngineClient {
  readonly #transport: EngineTransport;

  /** Creates the client; nothing is sent until the first call. */
  constructor(options: EngineTransportOptions | EngineTransport) {
    this.#transport = options instanceof EngineTransport ? options : new EngineTransport(options);
  }

  /** The endpoint, for messages. */
  get endpoint(): string {
    return this.#transport.endpoint;
  }

  /** `GET /_ping`, outside the version prefix's meaning but served under it too. */
  async ping(signal: AbortSignal): Promise<void> {
    await (await this.#transport.request({ operation: "ping", path: "/_ping", signal })).text();
  }

  /** `GET /version`. */
  async version(signal: AbortSignal): Promise<EngineVersion> {
    const reply = await this.#transport.json({ operation: "version", path: "/version", signal });
    return parse(versionSchema, reply, "GET /version");
  }

  /** `GET /info`. */
  async info(signal: AbortSignal): Promise<EngineInfo> {
    const reply = await this.#transport.json({ operation: "info", path: "/info", signal });
    return parse(infoSchema, reply, "GET /info");
  }

  /** `GET /services` with `filters`. */
  async listServices(filters: Filters, signal: AbortSignal): Promise<Service[]> {
    const reply = await this.#transport.json({
      operation: "services.list",
      path: "/services",
      query: { filters: JSON.stringify(filters) },
      signal,
    });
    return parse(serviceSchema.array(), reply, "GET /services");
  }

  /** `GET /services/{id}`. */
  async inspectService(id: string, signal: AbortSignal): Promise<Service> {
    const reply = await this.#transport.json({
      operation: "services.inspect",
      path: `/services/${encodeURIComponent(id)}`,
      signal,
    });
    return parse(serviceSchema, reply, `GET /services/${id}`);
  }

  /** `POST /services/create`; returns the new service's ID. */
  async createService(spec: ServiceSpec, signal: AbortSignal): Promise<string> {
    const reply = await this.#transport.json({
      operation: "services.create",
      method: "POST",
      path: "/services/create",
      body: spec,
      signal,
    });
    return parse(serviceCreatedSchema, reply, "POST /services/create").ID;
  }

  /** `POST /services/{id}/update` at `version` (optimistic concurrency). */
  async updateService(
    id: string,
    version: number,
    spec: ServiceSpec,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#transport.json({
      operation: "services.update",
      method: "POST",
      path: `/services/${encodeURIComponent(id)}/update`,
      query: { version },
      body: spec,
      signal,
    });
  }

  /** `DELETE /services/{id}`. */
  async removeService(id: string, signal: AbortSignal): Promise<void> {
    await (await this.#transport.request({
      operation: "services.remove",
      method: "DELETE",
      path: `/services/${encodeURIComponent(id)}`,
      signal,
    })).text();
  }

  /** `GET /tasks` with `filters`. */
  async listTasks(filters: Filters, signal: AbortSignal): Promise<Task[]> {
    const reply = await this.#transport.json({
      operation: "tasks.list",
      path: "/tasks",
      query: { filters: JSON.stringify(filters) },
      signal,
    });
    return parse(taskSchema.array(), reply, "GET /tasks");
  }

  /** `GET /nodes`. */
  async listNodes(signal: AbortSignal): Promise<SwarmNode[]> {
    const reply = await this.#transport.json({ operation: "nodes.list", path: "/nodes", signal });
    return parse(nodeSchema.array(), reply, "GET /nodes");
  }

  /** `GET /networks` with `filters`. */
  async listNetworks(filters: Filters, signal: AbortSignal): Promise<Network[]> {
    const reply = await this.#transport.json({
      operation: "networks.list",
      path: "/networks",
      query: { filters: JSON.stringify(filters) },
      signal,
    });
    return parse(networkSchema.array(), reply, "GET /networks");
  }

  /** `POST /networks/create` of an attachable overlay network; returns its ID. */
  async createOverlayNetwork(
    name: string,
    labels: Record<string, string>,
    signal: AbortSignal,
  ): Promise<string> {
    const reply = await this.#transport.json({
      operation: "networks.create",
      method: "POST",
      path: "/networks/create",
      body: {
        Name: name,
        Driver: "overlay",
        Attachable: true,
        CheckDuplicate: true,
        Labels: labels,
      },
      signal,
    });
    return parse(networkCreatedSchema, reply, "POST /networks/create").Id;
  }

  /**
   * `GET /events` with `filters`, one event per line until `signal` aborts or the Engine
   * goes away (then the iteration ends).
   */
  async *events(filters: Filters, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    const response = await this.#transport.request({
      operation: "events",
      path: "/events",
      query: { filters: JSON.stringify(filters) },
      stream: true,
      signal,
    });
    let buffered = "";
    const lines = response.body!.pipeThrough(new TextDecoderStream());
    for await (const text of chunksUntil(lines, signal)) {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== "") yield parse(eventSchema, JSON.parse(line), "GET /events");
      }
    }
  }

  /** `GET /tasks/{id}/logs` with timestamps: the multiplexed stream of the task's output. */
  async taskLogs(
    id: string,
    query: TaskLogQuery,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#transport.request({
      operation: "tasks.logs",
      path: `/tasks/${encodeURIComponent(id)}/logs`,
      query: {
        stdout: 1,
        stderr: 1,
        timestamps: 1,
        follow: query.follow ? 1 : undefined,
        tail: query.tail,
        since: query.since,
      },
      stream: true,
      signal,
    });
    return response.body ?? new ReadableStream({ start: (controller) => controller.close() });
  }

  /** `POST /containers/{id}/exec`; returns the exec ID. */
  async execCreate(containerId: string, body: ExecCreate, signal: AbortSignal): Promise<string> {
    const reply = await this.#transport.json({
      operation: "exec.create",
      method: "POST",
      path: `/containers/${encodeURIComponent(containerId)}/exec`,
      body,
      signal,
    });
    return parse(execCreatedSchema, reply, `POST /containers/${containerId}/exec`).Id;
  }

  /** `POST /exec/{id}/start`, hijacked: the process's streams. */
  execStart(id: string, tty: boolean, signal: AbortSignal): Promise<HijackedStream> {
    return this.#transport.hijack(
      "exec.start",
      `/exec/${encodeURIComponent(id)}/start`,
      { Detach: false, Tty: tty },
      signal,
    );
  }

  /** `POST /exec/{id}/resize`. */
  async execResize(
    id: string,
    size: { width: number; height: number },
    signal: AbortSignal,
  ): Promise<void> {
    await (await this.#transport.request({
      operation: "exec.resize",
      method: "POST",
      path: `/exec/${encodeURIComponent(id)}/resize`,
      query: { h: size.height, w: size.width },
      signal,
    })).text();
  }

  /** `GET /exec/{id}/json`: whether it runs and its exit code. */
  async execInspect(
    id: string,
    signal: AbortSignal,
  ): Promise<{ Running: boolean; ExitCode: number | null }> {
    const reply = await this.#transport.json({
      operation: "exec.inspect",
      path: `/exec/${encodeURIComponent(id)}/json`,
      signal,
    });
    return parse(execInspectSchema, reply, `GET /exec/${id}/json`);
  }

  /** Closes idle connections. */
  close(): void {
    this.#transport.close();
  }
}
