/**
 * An HTTP server for the probe tests, run as its own process (inside a network namespace
 * the test made): `deno run --allow-net --allow-read http_status_server.ts HOST PORT FILE`.
 * It prints `listening HOST:PORT` once it accepts and answers every request with the
 * status written in FILE (200 when the file is empty or missing), so that a test flips it.
 *
 * @module
 */

const [hostname, port, statusFile] = Deno.args;
function status(): number {
  try {
    const value = Number(Deno.readTextFileSync(statusFile).trim());
    return Number.isInteger(value) && value >= 100 && value <= 599 ? value : 200;
  } catch {
    return 200;
  }
}
Deno.serve({
  hostname,
  port: Number(port),
  onListen: () => console.log(`listening ${hostname}:${port}`),
}, () => new Response(`status ${status()}\n`, { status: status() }));
