/**
 * A TCP echo server for the port-forward tests, run as its own process (inside a network
 * namespace the test made): `deno run --allow-net echo_server.ts HOST PORT`. It prints
 * `listening HOST:PORT` once it accepts, echoes every byte of each connection and
 * half-closes when the client does.
 *
 * @module
 */

const [hostname, port] = Deno.args;
const listener = Deno.listen({ hostname, port: Number(port) });
console.log(`listening ${hostname}:${port}`);
for await (const conn of listener) {
  void (async () => {
    try {
      await conn.readable.pipeTo(conn.writable, { preventClose: true });
      await conn.closeWrite();
    } catch {
      // The client went away.
    } finally {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  })();
}
