import assert from "node:assert/strict";
import type { ExecStreams, TerminalSize } from "../../../lib/provider.ts";
import { commandEnvironment, runBuiltinCommand } from "../../../providers/mock/exec_commands.ts";

const environment = { env: { GREETING: "hello", PATH: "/bin" }, hostname: "web-0" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with `input` on stdin (chunks, then the end) and collects its output. */
async function run(
  command: string[],
  options: { input?: string[]; tty?: boolean; sizes?: TerminalSize[]; signal?: AbortSignal } = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const input = [...(options.input ?? [])];
  const decoder = new TextDecoder();
  const sink = (into: string[]) =>
    new WritableStream<Uint8Array>({ write: (chunk) => void into.push(decoder.decode(chunk)) });
  const streams: ExecStreams = {
    tty: options.tty ?? false,
    stdout: sink(out),
    ...(options.tty ? {} : { stderr: sink(err) }),
    ...(options.input === undefined ? {} : {
      // One chunk every 20 ms, as typed, so that echo and output do not overtake each other.
      stdin: new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = input.shift();
          if (chunk === undefined) return controller.close();
          await new Promise((resolve) => setTimeout(resolve, 20));
          controller.enqueue(new TextEncoder().encode(chunk));
        },
      }, { highWaterMark: 0 }),
    }),
    ...(options.sizes === undefined ? {} : {
      resize: (async function* () {
        for (const size of options.sizes!) yield size;
      })(),
    }),
  };
  const code = await runBuiltinCommand(command, streams, {
    environment,
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

Deno.test("mock exec: echo, env, hostname, pwd, true and false", async () => {
  assert.deepEqual(await run(["echo", "hi", "there"]), {
    code: 0,
    stdout: "hi there\n",
    stderr: "",
  });
  assert.equal((await run(["echo", "-n", "x"])).stdout, "x");
  assert.equal((await run(["env"])).stdout, "GREETING=hello\nPATH=/bin\n");
  assert.equal((await run(["hostname"])).stdout, "web-0\n");
  assert.equal((await run(["pwd"])).stdout, "/\n");
  assert.equal((await run(["true"])).code, 0);
  assert.equal((await run(["false"])).code, 1);
});

Deno.test("mock exec: exit N is the exit code, also inside sh -c; sh -c runs ;, && and || chains", async () => {
  assert.equal((await run(["exit", "3"])).code, 3);
  assert.equal((await run(["exit", "300"])).code, 44);
  assert.equal((await run(["sh", "-c", "exit 3"])).code, 3);
  const chain = await run([
    "sh",
    "-c",
    "echo a; false && echo b || echo c; echo \"$GREETING world\" 'q $GREETING' $?",
  ]);
  assert.deepEqual(chain, { code: 0, stdout: "a\nc\nhello world q $GREETING 0\n", stderr: "" });
  const stops = await run(["sh", "-c", "echo before; exit 5; echo after"]);
  assert.deepEqual([stops.code, stops.stdout], [5, "before\n"]);
  const quoting = await run(["sh", "-c", "echo it\\'s \"a;b\" 'c&&d'"]);
  assert.equal(quoting.stdout, "it's a;b c&&d\n");
});

Deno.test("mock exec: cat copies stdin to stdout byte for byte and ends with it", async () => {
  const result = await run(["cat"], { input: ["one\n", "two", "\u00e9\n"] });
  assert.deepEqual(result, { code: 0, stdout: "one\ntwo\u00e9\n", stderr: "" });
  const missing = await run(["cat", "/etc/passwd"]);
  assert.deepEqual([missing.code, missing.stderr], [
    1,
    "cat: /etc/passwd: No such file or directory\n",
  ]);
});

Deno.test("mock exec: an unknown command is 127 with a message listing the built-ins; never a host shell", async () => {
  const result = await run(["tar", "cf", "-", "/"]);
  assert.equal(result.code, 127);
  assert.match(
    result.stderr,
    /^mock: tar: command not found \(the mock container runs only its built-ins: echo, cat, env/,
  );
  const inShell = await run(["sh", "-c", "ls /; echo still"]);
  assert.deepEqual([inShell.code, inShell.stdout], [0, "still\n"]);
  assert.match(inShell.stderr, /mock: ls: command not found/);
});

Deno.test("mock exec: sleep waits and is stopped by the signal", async () => {
  const started = Date.now();
  assert.equal((await run(["sleep", "0.2"])).code, 0);
  assert.ok(Date.now() - started >= 190);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  assert.equal((await run(["sleep", "30"], { signal: controller.signal })).code, 137);
  assert.equal((await run(["sleep", "soon"])).code, 1);
});

Deno.test("mock exec: sh without -c reads commands from stdin; exit ends it", async () => {
  const result = await run(["sh"], { input: ["echo one\nhostname\n", "exit 9\necho never\n"] });
  assert.deepEqual(result, { code: 9, stdout: "one\nweb-0\n", stderr: "" });
});

Deno.test("mock exec: with a TTY input is echoed and cooked, output uses CR LF, stty size reports the terminal", async () => {
  const shell = await run(["sh"], {
    tty: true,
    input: ["echo hx\x7fi\r", "stty size\r", "\x04"],
    sizes: [{ width: 100, height: 30 }],
  });
  assert.equal(
    shell.stdout,
    "$ echo hx\b \bi\r\nhi\r\n$ stty size\r\n30 100\r\n$ exit\r\n",
  );
  assert.equal(shell.code, 0);
  const interrupted = await run(["cat"], { tty: true, input: ["abc\x03"] });
  assert.equal(interrupted.code, 130);
  assert.equal(interrupted.stdout, "abc^C\r\n");
  const noTerminal = await run(["stty", "size"]);
  assert.equal(noTerminal.code, 1);
});

Deno.test("mock exec: the environment is the container's env values, HOSTNAME and a PATH; TERM on a TTY", () => {
  const pod = {
    metadata: { name: "web" },
    spec: { containers: [{ name: "app", env: [{ name: "A", value: "1" }, { name: "B" }] }] },
  };
  const { env, hostname } = commandEnvironment(pod, "app", { tty: true });
  assert.equal(hostname, "web");
  assert.equal(env.A, "1");
  assert.equal(env.B, undefined);
  assert.equal(env.HOSTNAME, "web");
  assert.equal(env.TERM, "xterm");
  assert.ok(env.PATH.includes("/bin"));
});

Deno.test("mock exec: while, until, for and if run as in sh; NAME=value sets a variable", async () => {
  const loop = await run([
    "sh",
    "-c",
    "for i in 1 2 3; do echo line $i; done; n=x; while test $n != xxx; do n=${n}x; done; echo $n",
  ]);
  assert.deepEqual(loop, { code: 0, stdout: "line 1\nline 2\nline 3\nxxx\n", stderr: "" });
  const branches = await run([
    "sh",
    "-c",
    "if false; then echo no; elif true; then echo yes; else echo never; fi; until true; do echo x; done",
  ]);
  assert.equal(branches.stdout, "yes\n");
  const broken = await run(["sh", "-c", "while true; do echo x"]);
  assert.deepEqual([broken.code, broken.stderr], [
    2,
    'sh: syntax error: expected "done" before the end\n',
  ]);
});

Deno.test("mock exec: a loop that never ends stops when the signal aborts, pacing its rounds", async () => {
  const stop = new AbortController();
  const started = Date.now();
  setTimeout(() => stop.abort(), 300);
  const result = await run(["/bin/sh", "-c", "while true; do echo tick; done"], {
    signal: stop.signal,
  });
  assert.equal(result.code, 137);
  const ticks = result.stdout.split("\n").filter((line) => line === "tick").length;
  assert.ok(ticks >= 10 && ticks <= 40, `${ticks} rounds in ${Date.now() - started} ms`);
});

Deno.test("mock exec: touch, rm, test -f, cat FILE and > FILE share the container's files", async () => {
  const files = new Map<string, string>();
  const shared = { ...environment, files };
  const decoder = new TextDecoder();
  const exec = async (script: string) => {
    const out: string[] = [];
    const code = await runBuiltinCommand(["sh", "-c", script], {
      tty: false,
      stdout: new WritableStream({ write: (chunk) => void out.push(decoder.decode(chunk)) }),
      stderr: new WritableStream(),
    }, { environment: shared, signal: new AbortController().signal });
    return { code, stdout: out.join("") };
  };
  assert.equal((await exec("touch /tmp/healthy; echo ok > /tmp/state")).code, 0);
  assert.deepEqual(await exec("cat /tmp/healthy /tmp/state"), { code: 0, stdout: "ok\n" });
  assert.equal((await exec("[ -f /tmp/healthy ]")).code, 0);
  assert.equal((await exec("rm -f /tmp/healthy; test -e /tmp/healthy")).code, 1);
  assert.equal((await exec("cat /tmp/healthy")).code, 1);
  assert.equal((await exec("echo more >> /tmp/state; cat /tmp/state")).stdout, "ok\nmore\n");
});
