/**
 * The Docker Engine API replies the swarm provider reads (API 1.41, as Debian's docker.io
 * 20.10 serves it), as zod schemas: only the fields the provider uses are checked, every
 * other field passes through unread. The request bodies it sends are plain types.
 *
 * @module
 */

import { z } from "zod";

const labels = z.record(z.string(), z.string()).nullish().transform((value) => value ?? {});

/** `{"message": "..."}`, the body of every Engine API error. */
export const errorReplySchema = z.object({ message: z.string() });

/** `GET /version`. */
export const versionSchema = z.object({
  Version: z.string(),
  ApiVersion: z.string(),
  Os: z.string().optional(),
  Arch: z.string().optional(),
});

/** Engine version as `GET /version` reports it. */
export type EngineVersion = z.output<typeof versionSchema>;

/** `GET /info`: the engine's own Swarm membership. */
export const infoSchema = z.object({
  Name: z.string().optional(),
  Swarm: z.object({
    NodeID: z.string().default(""),
    LocalNodeState: z.string(),
    ControlAvailable: z.boolean().optional(),
    Error: z.string().optional(),
  }),
});

/** What `GET /info` says. */
export type EngineInfo = z.output<typeof infoSchema>;

const version = z.object({ Index: z.number() });

/** A service as `GET /services` lists it. */
export const serviceSchema = z.object({
  ID: z.string(),
  Version: version,
  CreatedAt: z.string(),
  UpdatedAt: z.string().optional(),
  Spec: z.object({
    Name: z.string(),
    Labels: labels,
    TaskTemplate: z.object({
      ContainerSpec: z.object({
        Image: z.string(),
        Env: z.array(z.string()).nullish(),
      }).optional(),
    }),
  }),
});

/** A Swarm service. */
export type Service = z.output<typeof serviceSchema>;

/** `POST /services/create`. */
export const serviceCreatedSchema = z.object({
  ID: z.string(),
  Warning: z.string().nullish(),
  Warnings: z.array(z.string()).nullish(),
});

/** Swarm task states, from `new` to `orphaned`. */
export type TaskState =
  | "new"
  | "allocated"
  | "pending"
  | "assigned"
  | "accepted"
  | "preparing"
  | "ready"
  | "starting"
  | "running"
  | "complete"
  | "shutdown"
  | "failed"
  | "rejected"
  | "remove"
  | "orphaned";

const taskStates = [
  "new",
  "allocated",
  "pending",
  "assigned",
  "accepted",
  "preparing",
  "ready",
  "starting",
  "running",
  "complete",
  "shutdown",
  "failed",
  "rejected",
  "remove",
  "orphaned",
] as const satisfies readonly TaskState[];

/** A task as `GET /tasks` lists it. */
export const taskSchema = z.object({
  ID: z.string(),
  Version: version,
  CreatedAt: z.string(),
  UpdatedAt: z.string().optional(),
  ServiceID: z.string(),
  Slot: z.number().optional(),
  NodeID: z.string().optional(),
  DesiredState: z.string(),
  Spec: z.object({
    ContainerSpec: z.object({ Labels: labels }).optional(),
    Resources: z.object({
      Reservations: z.object({
        NanoCPUs: z.number().optional(),
        MemoryBytes: z.number().optional(),
      }).nullish(),
    }).nullish(),
  }).optional(),
  Status: z.object({
    Timestamp: z.string(),
    State: z.enum(taskStates),
    Message: z.string().optional(),
    Err: z.string().optional(),
    ContainerStatus: z.object({
      ContainerID: z.string().optional(),
      PID: z.number().optional(),
      ExitCode: z.number().optional(),
    }).optional(),
  }),
  NetworksAttachments: z.array(z.object({
    Network: z.object({ ID: z.string(), Spec: z.object({ Name: z.string() }).optional() }),
    Addresses: z.array(z.string()).nullish(),
  })).nullish(),
});

/** A Swarm task. */
export type Task = z.output<typeof taskSchema>;

/** A node as `GET /nodes` lists it. */
export const nodeSchema = z.object({
  ID: z.string(),
  Spec: z.object({
    Availability: z.string(),
    Role: z.string().optional(),
    Labels: labels,
  }),
  Description: z.object({
    Hostname: z.string().optional(),
    Platform: z.object({ Architecture: z.string().optional(), OS: z.string().optional() })
      .optional(),
    Resources: z.object({ NanoCPUs: z.number().default(0), MemoryBytes: z.number().default(0) })
      .optional(),
    Engine: z.object({ EngineVersion: z.string().optional() }).optional(),
  }).optional(),
  Status: z.object({
    State: z.string(),
    Message: z.string().optional(),
    Addr: z.string().optional(),
  }),
});

/** A Swarm node. */
export type SwarmNode = z.output<typeof nodeSchema>;

/** A network as `GET /networks` lists it. */
export const networkSchema = z.object({
  Id: z.string(),
  Name: z.string(),
  Driver: z.string(),
  Scope: z.string().optional(),
  Attachable: z.boolean().optional(),
});

/** An Engine network. */
export type Network = z.output<typeof networkSchema>;

/** `POST /networks/create`. */
export const networkCreatedSchema = z.object({ Id: z.string() });

/** `POST /containers/{id}/exec`. */
export const execCreatedSchema = z.object({ Id: z.string() });

/** `GET /exec/{id}/json`. */
export const execInspectSchema = z.object({
  Running: z.boolean(),
  ExitCode: z.number().nullable(),
});

/** One line of `GET /events`. */
export const eventSchema = z.object({
  Type: z.string(),
  Action: z.string(),
  Actor: z.object({
    ID: z.string(),
    Attributes: z.record(z.string(), z.string()).nullish().transform((value) => value ?? {}),
  }),
  scope: z.string().optional(),
  timeNano: z.number().optional(),
});

/** An Engine event. */
export type EngineEvent = z.output<typeof eventSchema>;

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

/** Resources of a task: CPU in billionths of a core, memory in bytes. */
export interface ResourceSpec {
  NanoCPUs?: number;
  MemoryBytes?: number;
}

/** The container a service's tasks run. */
export interface ContainerSpec {
  Image: string;
  Labels: Record<string, string>;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  StopGracePeriod?: number;
  DNSConfig?: { Search?: string[] };
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
}

/** A port published on the node running the task (`PublishMode: host`). */
export interface PortSpec {
  Protocol: "tcp" | "udp" | "sctp";
  TargetPort: number;
  PublishedPort: number;
  PublishMode: "host";
}

/** The body of `POST /services/create` and `POST /services/{id}/update`. */
export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: ContainerSpec;
    Resources?: { Limits?: ResourceSpec; Reservations?: ResourceSpec };
    RestartPolicy: {
      Condition: "none" | "on-failure" | "any";
      Delay: number;
      MaxAttempts: number;
    };
    Placement?: { Constraints?: string[] };
    Networks: { Target: string; Aliases?: string[] }[];
  };
  Mode: { Replicated: { Replicas: number } };
  EndpointSpec: { Mode: "dnsrr"; Ports?: PortSpec[] };
}
