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
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { ExecStreams, TerminalSize } from "../../lib/provider.ts";
import { abortableSleep } from "../../lib/provider_kit/mod.ts";

/** The built-in command names, as the not-found message lists them. */
export const builtinCommands = [
  "echo",
  "cat",
  "env",
  "hostname",
  "pwd",
  "sleep",
  "exit",
  "true",
  "false",
  "stty",
  "touch",
  "rm",
  "test",
  "[",
  "sh",
] as const;

/** The shortest round of a `while` or `until` loop, so that a busy loop cannot spin the agent. */
const LOOP_ROUND_MS = 10;

/** What a command sees of its container. */
export interface CommandEnvironment {
  /** Environment variables of the container. */
  env: Record<string, string>;
  /** What `hostname` prints. */
  hostname: string;
  /** The container's files by path, shared by its process and every exec into it. */
  files?: Map<string, string>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown inside the interpreter by `exit N` and Ctrl-C; carries the exit code. */
class ExitSignal {
  constructor(readonly code: number) {}
}

/**
 * The input side of a session: raw bytes, or with a TTY the lines a line discipline made
 * (echoing what is typed), where Ctrl-D ends one read and Ctrl-C interrupts the command.
 */
class Input {
  readonly #queue: (Uint8Array | "eof" | "interrupt")[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #line: number[] = [];
  readonly #tty: boolean;
  readonly #echo: (bytes: Uint8Array) => Promise<void>;
  /** Called on Ctrl-C with a TTY; true when it interrupted a command that reads no input. */
  onInterrupt: () => boolean = () => false;

  constructor(
    stdin: ReadableStream<Uint8Array> | undefined,
    tty: boolean,
    echo: (bytes: Uint8Array) => Promise<void>,
  ) {
    this.#tty = tty;
    this.#echo = echo;
    if (stdin === undefined) this.#ended = true;
    else void this.#pump(stdin);
  }

  async #pump(stdin: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stdin) {
        if (this.#tty) await this.#cook(chunk);
        else this.#push(chunk);
      }
    } catch {
      // A reset stdin ends the input like a closed one.
    }
    if (this.#line.length > 0) this.#push(new Uint8Array(this.#line));
    this.#line = [];
    this.#ended = true;
    this.#wake();
  }

  async #cook(chunk: Uint8Array): Promise<void> {
    for (const byte of chunk) {
      if (byte === 0x0d || byte === 0x0a) {
        await this.#echo(encoder.encode("\r\n"));
        this.#line.push(0x0a);
        this.#push(new Uint8Array(this.#line));
        this.#line = [];
      } else if (byte === 0x7f || byte === 0x08) {
        if (this.#line.length > 0) {
          this.#line.pop();
          await this.#echo(encoder.encode("\b \b"));
        }
      } else if (byte === 0x03) {
        await this.#echo(encoder.encode("^C\r\n"));
        this.#line = [];
        if (!this.onInterrupt()) this.#queue.push("interrupt");
        this.#wake();
      } else if (byte === 0x04) {
        if (this.#line.length > 0) this.#push(new Uint8Array(this.#line));
        else this.#queue.push("eof");
        this.#line = [];
        this.#wake();
      } else {
        this.#line.push(byte);
        await this.#echo(new Uint8Array([byte]));
      }
    }
  }

  #push(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** The next bytes, or null at the end of input (with a TTY: one Ctrl-D). */
  async read(signal: AbortSignal): Promise<Uint8Array | null> {
    while (true) {
      const item = this.#queue.shift();
      if (item === "eof") return null;
      if (item === "interrupt") throw new ExitSignal(130);
      if (item !== undefined) return item;
      if (this.#ended) return null;
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  }

  /** The next line without its newline, or null at the end of input. */
  async readLine(signal: AbortSignal): Promise<string | null> {
    let text = "";
    while (true) {
      const newline = text.indexOf("\n");
      if (newline >= 0) {
        const rest = text.slice(newline + 1);
        if (rest !== "") this.#queue.unshift(encoder.encode(rest));
        return text.slice(0, newline);
      }
      const bytes = await this.read(signal);
      if (bytes === null) return text === "" ? null : text;
      text += decoder.decode(bytes);
    }
  }
}

/** Where a command writes, with CR LF newlines on a terminal. */
class Output {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #tty: boolean;

  constructor(stream: WritableStream<Uint8Array> | undefined, tty: boolean) {
    this.#writer = stream?.getWriter();
    this.#tty = tty;
  }

  async write(data: string | Uint8Array): Promise<void> {
    if (this.#writer === undefined) return;
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#tty && typeof data === "string") {
      bytes = encoder.encode(data.replace(/\r?\n/g, "\r\n"));
    }
    await this.#writer.write(bytes);
  }

  async close(): Promise<void> {
    await this.#writer?.close().catch(() => {});
  }
}

/** One word of a shell line, split at unquoted spaces, with quotes removed and `$` expanded. */
function splitWords(text: string, lookup: (name: string) => string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
      continue;
    }
    if (char === "\\" && index + 1 < text.length) {
      word += text[++index];
      inWord = true;
    } else if (char === "'" || char === '"') {
      if (quote === char) quote = undefined;
      else if (quote === undefined) quote = char;
      else word += char;
      inWord = true;
    } else if (char === "$") {
      const match = /^(\?|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/.exec(
        text.slice(index + 1),
      );
      if (match === null) word += char;
      else {
        word += lookup(match[1].replace(/[{}]/g, ""));
        index += match[1].length;
      }
      inWord = true;
    } else if ((char === " " || char === "\t") && quote === undefined) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/** A script cut into commands and the operators before each (`;`, `&&`, `||`). */
function splitCommands(script: string): Piece[] {
  const commands: Piece[] = [];
  let op: Operator = ";";
  let current = "";
  let quote: string | undefined;
  for (let index = 0; index < script.length; index++) {
    const char = script[index];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"') current += script[index++];
      current += char;
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    if (char === "\\") {
      current += char + (script[++index] ?? "");
      continue;
    }
    const two = script.slice(index, index + 2);
    if (char === ";" || char === "\n" || two === "&&" || two === "||") {
      commands.push({ op, text: current });
      op = char === "\n" ? ";" : char === ";" ? ";" : two as "&&" | "||";
      if (two === "&&" || two === "||") index++;
      current = "";
      continue;
    }
    current += char;
  }
  commands.push({ op, text: current });
  return commands.filter((command) => command.text.trim() !== "");
}

/** How a command joins the one before it. */
type Operator = ";" | "&&" | "||";

/** One command of a script, as cut at its operators. */
interface Piece {
  op: Operator;
  text: string;
}

/** A parsed command: a simple one, or a loop or `if` made of lists of them. */
type Node =
  | { kind: "simple"; op: Operator; text: string }
  | { kind: "while"; op: Operator; until: boolean; condition: Node[]; body: Node[] }
  | { kind: "for"; op: Operator; name: string; words: string; body: Node[] }
  | {
    kind: "if";
    op: Operator;
    branches: { condition: Node[]; body: Node[] }[];
    otherwise: Node[];
  };

const KEYWORDS = new Set([
  "while",
  "until",
  "for",
  "if",
  "do",
  "done",
  "then",
  "elif",
  "else",
  "fi",
]);

/** Reads pieces as a list of nodes; a piece may start with a keyword followed by a command. */
class Parser {
  readonly #pieces: Piece[];
  #index = 0;

  constructor(pieces: Piece[]) {
    this.#pieces = pieces.map((piece) => ({ ...piece, text: piece.text.trim() }));
  }

  /** The keyword the current piece starts with, if any. */
  #keyword(): string | undefined {
    const piece = this.#pieces[this.#index];
    if (piece === undefined) return undefined;
    const word = /^\S+/.exec(piece.text)?.[0] ?? "";
    return KEYWORDS.has(word) ? word : undefined;
  }

  /** Drops the keyword from the current piece (moving on when nothing follows it). */
  #consume(keyword: string): void {
    const piece = this.#pieces[this.#index];
    const rest = piece.text.slice(keyword.length).trim();
    if (rest === "") this.#index++;
    else this.#pieces[this.#index] = { op: ";", text: rest };
  }

  #expect(keyword: string): void {
    if (this.#keyword() !== keyword) {
      const found = this.#pieces[this.#index]?.text ?? "the end of the script";
      throw new Error(`expected "${keyword}", found "${found}"`);
    }
    this.#consume(keyword);
  }

  /** Nodes up to one of `stops` (not consumed) or the end. */
  list(stops: string[]): Node[] {
    const nodes: Node[] = [];
    while (this.#index < this.#pieces.length) {
      const keyword = this.#keyword();
      if (keyword !== undefined && stops.includes(keyword)) return nodes;
      const op = this.#pieces[this.#index].op;
      if (keyword === "while" || keyword === "until") {
        this.#consume(keyword);
        const condition = this.list(["do"]);
        this.#expect("do");
        const body = this.list(["done"]);
        this.#expect("done");
        nodes.push({ kind: "while", op, until: keyword === "until", condition, body });
      } else if (keyword === "for") {
        this.#consume("for");
        const header = this.#pieces[this.#index]?.text ?? "";
        const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+in\s+(.*))?$/.exec(header);
        if (match === null) throw new Error(`expected "for NAME in WORDS", found "for ${header}"`);
        this.#index++;
        this.#expect("do");
        const body = this.list(["done"]);
        this.#expect("done");
        nodes.push({ kind: "for", op, name: match[1], words: match[2] ?? "", body });
      } else if (keyword === "if") {
        this.#consume("if");
        const branches: { condition: Node[]; body: Node[] }[] = [];
        let otherwise: Node[] = [];
        while (true) {
          const condition = this.list(["then"]);
          this.#expect("then");
          const body = this.list(["elif", "else", "fi"]);
          branches.push({ condition, body });
          const next = this.#keyword();
          if (next === "elif") {
            this.#consume("elif");
            continue;
          }
          if (next === "else") {
            this.#consume("else");
            otherwise = this.list(["fi"]);
          }
          this.#expect("fi");
          break;
        }
        nodes.push({ kind: "if", op, branches, otherwise });
      } else if (keyword !== undefined) {
        throw new Error(`unexpected "${keyword}"`);
      } else {
        nodes.push({ kind: "simple", op, text: this.#pieces[this.#index++].text });
      }
    }
    if (stops.length > 0) throw new Error(`expected "${stops.join('" or "')}" before the end`);
    return nodes;
  }
}

/** Parses a script into nodes; throws with a syntax message. */
function parseScript(script: string): Node[] {
  return new Parser(splitCommands(script)).list([]);
}

/** The state of one exec session. */
class Session {
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
    let nodes: Node[];
    try {
      nodes = parseScript(text);
    } catch (error) {
      await this.stderr.write(`sh: syntax error: ${(error as Error).message}\n`);
      this.lastStatus = 2;
      return 2;
    }
    return await this.nodes(nodes);
  }

  async nodes(nodes: Node[]): Promise<number> {
    let status = this.lastStatus;
    for (const node of nodes) {
      if (node.op === "&&" && status !== 0) continue;
      if (node.op === "||" && status === 0) continue;
      status = await this.node(node);
      this.lastStatus = status;
    }
    return status;
  }

  async node(node: Node): Promise<number> {
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
    const [path, ...args] = argv;
    const name = path.includes("/") ? path.slice(path.lastIndexOf("/") + 1) : path;
    switch (name) {
      case "echo": {
        const noNewline = args[0] === "-n";
        const text = (noNewline ? args.slice(1) : args).join(" ");
        await this.stdout.write(noNewline ? text : `${text}\n`);
        return 0;
      }
      case "cat":
        return await this.cat(args);
      case "env":
        await this.stdout.write(
          Object.entries(this.environment.env).map(([key, value]) => `${key}=${value}\n`)
            .join(""),
        );
        return 0;
      case "hostname":
        await this.stdout.write(`${this.environment.hostname}\n`);
        return 0;
      case "pwd":
        await this.stdout.write("/\n");
        return 0;
      case "true":
        return 0;
      case "false":
        return 1;
      case "sleep":
        return await this.sleep(args);
      case "exit": {
        const code = args.length === 0 ? this.lastStatus : Number(args[0]);
        if (!Number.isInteger(code)) {
          await this.stderr.write(`sh: exit: ${args[0]}: numeric argument required\n`);
          throw new ExitSignal(2);
        }
        throw new ExitSignal(((code % 256) + 256) % 256);
      }
      case "stty":
        if (args.length === 1 && args[0] === "size") {
          // The client sends the first size right after the streams open: give it a moment.
          if (this.tty) await Promise.race([this.sizeKnown, abortableSleep(1_000, this.signal)]);
          this.signal.throwIfAborted();
          if (this.size === undefined) {
            await this.stderr.write("stty: standard input: not a terminal\n");
            return 1;
          }
          await this.stdout.write(`${this.size.height} ${this.size.width}\n`);
          return 0;
        }
        await this.stderr.write(`stty: only "stty size" is built in, found "${args.join(" ")}"\n`);
        return 1;
      case "touch":
        for (const file of args) if (!this.files.has(file)) this.files.set(file, "");
        return 0;
      case "rm":
        return await this.rm(args);
      case "test":
        return this.test(args);
      case "[":
        if (args.at(-1) !== "]") {
          await this.stderr.write("sh: [: missing ]\n");
          return 2;
        }
        return this.test(args.slice(0, -1));
      case "sh":
        return await this.sh(args);
      default:
        await this.stderr.write(
          `mock: ${name}: command not found (the mock container runs only its built-ins: ${
            builtinCommands.join(", ")
          })\n`,
        );
        return 127;
    }
  }

  async rm(args: string[]): Promise<number> {
    const force = args.includes("-f");
    let status = 0;
    for (const file of args.filter((arg) => !arg.startsWith("-"))) {
      if (this.files.delete(file) || force) continue;
      await this.stderr.write(`rm: cannot remove '${file}': No such file or directory\n`);
      status = 1;
    }
    return status;
  }

  test(args: string[]): number {
    if (args.length === 0) return 1;
    if (args[0] === "!") return this.test(args.slice(1)) === 0 ? 1 : 0;
    if (args.length === 2 && (args[0] === "-e" || args[0] === "-f")) {
      return this.files.has(args[1]) ? 0 : 1;
    }
    if (args.length === 2 && args[0] === "-n") return args[1] !== "" ? 0 : 1;
    if (args.length === 2 && args[0] === "-z") return args[1] === "" ? 0 : 1;
    if (args.length === 3 && args[1] === "=") return args[0] === args[2] ? 0 : 1;
    if (args.length === 3 && args[1] === "!=") return args[0] !== args[2] ? 0 : 1;
    return args.length === 1 && args[0] !== "" ? 0 : 1;
  }

  async cat(args: string[]): Promise<number> {
    const files = args.filter((arg) => arg !== "-");
    if (files.length > 0) {
      let status = 0;
      for (const file of files) {
        const content = this.files.get(file);
        if (content !== undefined) await this.stdout.write(content);
        else {
          await this.stderr.write(`cat: ${file}: No such file or directory\n`);
          status = 1;
        }
      }
      return status;
    }
    while (true) {
      const bytes = await this.input.read(this.signal);
      if (bytes === null) return 0;
      await this.stdout.write(this.tty ? decoder.decode(bytes) : bytes);
    }
  }

  async sleep(args: string[]): Promise<number> {
    const seconds = args[0] === "infinity" ? 2_147_483 : Number(args[0]);
    if (args.length !== 1 || !Number.isFinite(seconds) || seconds < 0) {
      await this.stderr.write(`sleep: expected one number of seconds, found "${args.join(" ")}"\n`);
      return 1;
    }
    const interrupted = new AbortController();
    this.input.onInterrupt = () => {
      interrupted.abort();
      return true;
    };
    try {
      await abortableSleep(seconds * 1000, AbortSignal.any([this.signal, interrupted.signal]));
      if (interrupted.signal.aborted) throw new ExitSignal(130);
      if (this.signal.aborted) throw new ExitSignal(137);
      return 0;
    } finally {
      this.input.onInterrupt = () => false;
    }
  }

  async sh(args: string[]): Promise<number> {
    if (args[0] === "-c") {
      if (args.length < 2) {
        await this.stderr.write("sh: -c: option requires an argument\n");
        return 2;
      }
      try {
        return await this.script(args[1]);
      } catch (error) {
        if (error instanceof ExitSignal) return error.code;
        throw error;
      }
    }
    if (args.length > 0) {
      await this.stderr.write(`sh: can't open '${args[0]}': No such file or directory\n`);
      return 2;
    }
    // Interactive: one line at a time until the end of input or `exit`.
    while (true) {
      if (this.tty) await this.stdout.write("$ ");
      let line: string | null;
      try {
        line = await this.input.readLine(this.signal);
      } catch (error) {
        if (error instanceof ExitSignal) continue;
        throw error;
      }
      if (line === null) {
        if (this.tty) await this.stdout.write("exit\n");
        return this.lastStatus;
      }
      try {
        await this.script(line);
      } catch (error) {
        if (!(error instanceof ExitSignal)) throw error;
        if (error.code === 130) continue;
        return error.code;
      }
    }
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
