/**
 * A small ZStack REST client for the simulator's tests: login, queries, and async calls
 * polled to completion, all over real HTTP. Private to this folder.
 *
 * @module
 */

import { sha512Hex, type Simulator, startSimulator } from "./mod.ts";

/** An answer: status, raw text and the parsed JSON body (if the text is JSON). */
export interface Answer {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any -- test code reads arbitrary JSON paths
  body: any;
  headers: Headers;
}

/** Options of a simulator for tests: fast jobs and boots. */
export const FAST = { jobDurationMs: 20, vmBootMs: 100 } as const;

async function toAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = undefined;
  if (text.startsWith("{")) body = JSON.parse(text);
  return { status: response.status, text, body, headers: response.headers };
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A logged-in client of one simulator. */
export class Client {
  /** The simulator under test. */
  readonly sim: Simulator;
  /** The session uuid once logged in. */
  session = "";

  /** Creates a client (not yet logged in). */
  constructor(sim: Simulator) {
    this.sim = sim;
  }

  /** Logs in as admin/password and keeps the session. */
  async login(password = "password"): Promise<Answer> {
    const answer = await this.raw("PUT", "/v1/accounts/login", {
      body: { logInByAccount: { accountName: "admin", password: await sha512Hex(password) } },
      auth: false,
    });
    if (answer.status === 200) this.session = answer.body.inventory.uuid;
    return answer;
  }

  /** One request below `/zstack`, no polling. */
  async raw(
    method: string,
    path: string,
    options: { body?: unknown; auth?: boolean; headers?: Record<string, string>; text?: string } =
      {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== false && this.session) headers.Authorization = `OAuth ${this.session}`;
    const body = options.text ??
      (options.body === undefined ? undefined : JSON.stringify(options.body));
    return await toAnswer(await fetch(`${this.sim.url}${path}`, { method, headers, body }));
  }

  /** A GET with query parameters (repeated keys allowed). */
  async get(path: string, params: [string, string][] = []): Promise<Answer> {
    const search = new URLSearchParams(params).toString();
    return await this.raw("GET", search ? `${path}?${search}` : path);
  }

  /** The inventories of a query, asserting it succeeded. */
  // deno-lint-ignore no-explicit-any -- test code reads arbitrary JSON paths
  async query(path: string, ...conditions: string[]): Promise<any[]> {
    const answer = await this.get(path, conditions.map((q) => ["q", q]));
    if (answer.status !== 200) {
      throw new Error(`query ${path} answered ${answer.status}: ${answer.text}`);
    }
    return answer.body.inventories;
  }

  /** Polls a job location until it is no longer 202. */
  async poll(location: string): Promise<Answer> {
    while (true) {
      const answer = await toAnswer(await fetch(location));
      if (answer.status !== 202) return answer;
      await delay(10);
    }
  }

  /** An async call: asserts the 202 and returns the final poll answer. */
  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const accepted = await this.raw(method, path, { body });
    if (accepted.status !== 202) {
      throw new Error(`${method} ${path} answered ${accepted.status}, not 202: ${accepted.text}`);
    }
    return await this.poll(accepted.body.location);
  }

  /** Uuid of the first inventory of `path` named `name`. */
  async uuidOf(path: string, name: string): Promise<string> {
    const [found] = await this.query(path, `name=${name}`);
    if (!found) throw new Error(`no ${path} named ${name}`);
    return found.uuid;
  }

  /** Creates a VM from the seed's cirros image, small offering and l3-default; returns the final poll. */
  async createVm(
    name: string,
    extra: Record<string, unknown> = {},
    tags: { systemTags?: string[]; userTags?: string[] } = {},
  ): Promise<Answer> {
    const params = {
      name,
      imageUuid: await this.uuidOf("/v1/images", "cirros"),
      instanceOfferingUuid: await this.uuidOf("/v1/instance-offerings", "small"),
      l3NetworkUuids: [await this.uuidOf("/v1/l3-networks", "l3-default")],
      ...extra,
    };
    return await this.call("POST", "/v1/vm-instances", { params, ...tags });
  }

  /** Runs a VM action and returns the final poll. */
  async action(
    vmUuid: string,
    action: string,
    params: Record<string, unknown> = {},
  ): Promise<Answer> {
    return await this.call("PUT", `/v1/vm-instances/${vmUuid}/actions`, { [action]: params });
  }
}

/** Starts a fast simulator and a logged-in client, runs `fn`, and closes the simulator. */
export async function withSim(
  fn: (client: Client, sim: Simulator) => Promise<void>,
  options: Parameters<typeof startSimulator>[0] = {},
): Promise<void> {
  const sim = await startSimulator({ ...FAST, ...options });
  try {
    const client = new Client(sim);
    await client.login();
    await fn(client, sim);
  } finally {
    await sim.close();
  }
}
