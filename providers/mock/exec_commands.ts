/**
 * What a mock container runs, as its main process (`command` and `args`) and for
 * `kubectl exec` and exec probes: a small built-in command set interpreted inside the agent,
 * never the host's shell. `echo [-n]`, `cat` (stdin, or files), `env`, `hostname`, `pwd`,
 * `sleep N` (or `infinity`), `exit N`, `true`, `false`, `stty size` (the terminal size the
 * client last sent), `touch`, `rm [-f]`, `test`/`[` (`-e`/`-f` FILE, `=`, `!=`) over the
 * container's in-memory files (`> FILE` and `>> FILE` write them), and `sh`: `sh -c SCRIPT`
 * runs commands joined by `;`, `&&`, `||` or newlines, `NAME=value`, `while`/`until`
 * (at most 100 rounds a second), `for NAME in …` and `if … then … else … fi`, with '…',
 * "…", backslash quoting and `$VAR`/`$?` expansion; `sh` alone reads such lines from stdin
 * (with a `$ ` prompt on a terminal). A command named by a path (`/bin/sh`) is its last
 * part. Anything else is exit code 127 with a message that lists the built-ins. With a TTY, input is echoed and cooked
 * (Enter ends a line, Backspace erases, Ctrl-C interrupts, Ctrl-D ends input) and output
 * newlines become CR LF, as a terminal's line discipline does.
 *
 * This module is the interpreter (a session running scripts and commands, with `>` and
 * `>>` redirection) and its entry points; the commands themselves are
 * `builtin_commands.ts`, the script syntax `shell_syntax.ts`, and the input and output
 * streams `exec_streams.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { ExecStreams, TerminalSize } from "../../lib/provider.ts";
import { abortableSleep } from "../../lib/provider_kit/mod.ts";
import { type BuiltinSession, type CommandEnvironment, runBuiltin } from "./builtin_commands.ts";
import { ExitSignal, Input, Output } from "./exec_streams.ts";
import { parseScript, type ScriptNode, splitWords } from "./shell_syntax.ts";

export { builtinCommands, type CommandEnvironment } from "./builtin_commands.ts";

/** The shortest round of a `while` or `until` loop, so that a busy loop cannot spin the agent. */
const LOOP_ROUND_MS = 10;
const decoder = new TextDecoder();

/** The state of one exec session. */
class Session implements BuiltinSession {
  lastStatus = 0;
  size: TerminalSize | undefined;
  readonly sizeKnown: Promise<void>;
  #sizeArrived!: () => void;

  constructor(
    readonly environment: CommandEnvironment,
    readonly input: Input,
    public stdout: Output,
    readonly stderr: Output,
    readonly tty: boolean,
    readonly signal: AbortSignal,
  ) {
    this.sizeKnown = new Promise((resolve) => this.#sizeArrived = resolve);
  }

  setSize(size: TerminalSize): void {
    this.size = size;
    this.#sizeArrived();
  }

  lookup(name: string): string {
    if (name === "?") return String(this.lastStatus);
    return this.variables.get(name) ?? this.environment.env[name] ?? "";
  }

  readonly variables = new Map<string, string>();

  get files(): Map<string, string> {
    return this.environment.files ?? (this.environment.files = new Map());
  }

  async script(text: string): Promise<number> {
    let nodes: ScriptNode[];
    try {
      nodes = parseScript(text);
    } catch (error) {
      await this.stderr.write(`sh: syntax error: ${(error as Error).message}\n`);
      this.lastStatus = 2;
      return 2;
    }
    return await this.nodes(nodes);
  }

  async nodes(nodes: ScriptNode[]): Promise<number> {
    let status = this.lastStatus;
    for (const node of nodes) {
      if (node.op === "&&" && status !== 0) continue;
      if (node.op === "||" && status === 0) continue;
      status = await this.node(node);
      this.lastStatus = status;
    }
    return status;
  }

  async node(node: ScriptNode): Promise<number> {
    switch (node.kind) {
      case "simple":
        return await this.simple(node.text);
      case "while": {
        let status = 0;
        while (true) {
          this.signal.throwIfAborted();
          const round = abortableSleep(LOOP_ROUND_MS, this.signal);
          const condition = await this.nodes(node.condition);
          if ((condition === 0) === node.until) return status;
          status = await this.nodes(node.body);
          await round;
        }
      }
      case "for": {
        let status = 0;
        for (const word of splitWords(node.words, (name) => this.lookup(name))) {
          this.signal.throwIfAborted();
          this.variables.set(node.name, word);
          status = await this.nodes(node.body);
        }
        return status;
      }
      case "if": {
        for (const branch of node.branches) {
          if (await this.nodes(branch.condition) === 0) return await this.nodes(branch.body);
        }
        return await this.nodes(node.otherwise);
      }
    }
  }

  async simple(text: string): Promise<number> {
    let words: string[];
    try {
      words = splitWords(text, (name) => this.lookup(name));
    } catch (error) {
      await this.stderr.write(`sh: syntax error: ${(error as Error).message}\n`);
      return 2;
    }
    if (words.length === 0) return this.lastStatus;
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(words[0]);
    if (assignment !== null && words.length === 1) {
      this.variables.set(assignment[1], assignment[2]);
      return 0;
    }
    return await this.redirected(words);
  }

  /** Runs `argv` with `> FILE` or `>> FILE` writing its output to a file. */
  async redirected(argv: string[]): Promise<number> {
    const at = argv.findIndex((word) => /^>>?/.test(word));
    if (at < 0) return await this.run(argv);
    const word = argv[at];
    const append = word.startsWith(">>");
    const inline = word.slice(append ? 2 : 1);
    const file = inline !== "" ? inline : argv[at + 1];
    const rest = [...argv.slice(0, at), ...argv.slice(at + (inline !== "" ? 1 : 2))];
    if (file === undefined) {
      await this.stderr.write("sh: syntax error: expected a file after >\n");
      return 2;
    }
    const captured: string[] = [];
    const stdout = this.stdout;
    this.stdout = {
      write: (data: string | Uint8Array) => {
        captured.push(typeof data === "string" ? data : decoder.decode(data));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    } as Output;
    try {
      return await this.run(rest);
    } finally {
      this.stdout = stdout;
      this.files.set(file, (append ? this.files.get(file) ?? "" : "") + captured.join(""));
    }
  }

  async run(argv: string[]): Promise<number> {
    return await runBuiltin(this, argv);
  }
}

/**
 * Runs `command` on `streams` with the built-in command set and resolves with its exit code.
 * Closes stdout and stderr when it ends; stops (exit code 137) when `signal` aborts.
 */
export async function runBuiltinCommand(
  command: string[],
  streams: ExecStreams,
  options: { environment: CommandEnvironment; signal: AbortSignal },
): Promise<number> {
  const { tty } = streams;
  const stdout = new Output(streams.stdout, tty);
  const stderr = tty ? stdout : new Output(streams.stderr, false);
  const input = new Input(streams.stdin, tty, (bytes) => stdout.write(bytes));
  const session = new Session(options.environment, input, stdout, stderr, tty, options.signal);
  const resizing = (async () => {
    if (streams.resize === undefined) return;
    for await (const size of streams.resize) session.setSize(size);
  })().catch(() => {});
  try {
    return await session.run(command);
  } catch (error) {
    if (error instanceof ExitSignal) return error.code;
    if (options.signal.aborted) return 137;
    throw error;
  } finally {
    await stdout.close();
    if (!tty) await stderr.close();
    void resizing;
  }
}

/**
 * The environment a command in `container` of `pod` sees: a base `PATH`, `HOSTNAME` and
 * `HOME`, the container's `env` values (as the agent resolved them), and `TERM` on a TTY.
 */
export function commandEnvironment(
  pod: Pod,
  container: string,
  options: { tty: boolean },
): CommandEnvironment {
  const hostname = pod.spec?.hostname ?? pod.metadata?.name ?? "";
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOSTNAME: hostname,
    HOME: "/root",
  };
  if (options.tty) env.TERM = "xterm";
  const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]
    .find((each) => each.name === container);
  for (const variable of spec?.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  return { env, hostname };
}
