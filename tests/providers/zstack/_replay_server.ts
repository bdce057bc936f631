/**
 * A tiny HTTP server for client tests: each test answers requests with a handler that
 * replays reply shapes recorded from the ZStack reference, and reads back what the
 * client sent.
 *
 * @module
 */

/** A request as the server received it. */
export interface Received {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  body: unknown;
}

/** A running replay server. */
export interface ReplayServer {
  /** Base URL with the `/zstack` context, as a management node has. */
  url: string;
  /** Port it listens on. */
  port: number;
  /** Requests received so far. */
  received: Received[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** JSON reply without Content-Type, as ZStack sends it. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status });
}

/** Plain-text reply. */
export function text(status: number, body: string): Response {
  return new Response(body, { status });
}

/** Starts a server on a free port answering with `handler`. */
export function startReplayServer(
  handler: (request: Received) => Response | Promise<Response>,
): ReplayServer {
  const received: Received[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const raw = await request.text();
    let body: unknown = undefined;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const entry: Received = {
      method: request.method,
      path: url.pathname.replace(/^\/zstack/, ""),
      search: url.search,
      headers: request.headers,
      body,
    };
    received.push(entry);
    return await handler(entry);
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/zstack`,
    port,
    received,
    close: () => server.shutdown(),
  };
}
