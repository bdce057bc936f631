/**
 * The built-in commands of a mock container: `echo [-n]`, `cat` (stdin, or files), `env`,
 * `hostname`, `pwd`, `sleep N` (or `infinity`), `exit N`, `true`, `false`, `stty size`
 * (the terminal size the client last sent), `touch`, `rm [-f]`, `test`/`[` (`-e`/`-f`
 * FILE, `-n`, `-z`, `=`, `!=`, `!`) over the container's in-memory files, and `sh` (`-c
 * SCRIPT`, a script file refused, or interactive lines from stdin with a `$ ` prompt on a
 * terminal), run on the session that `exec_commands.ts` interprets scripts in.
 *
 * @module
 */

import type { TerminalSize } from "../../lib/provider.ts";
import { abortableSleep } from "../../lib/provider_kit/mod.ts";
import { ExitSignal, type Input, type Output } from "./exec_streams.ts";

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

/** What a command sees of its container. */
export interface CommandEnvironment {
  /** Environment variables of the container. */
  env: Record<string, string>;
  /** What `hostname` prints. */
  hostname: string;
  /** The container's files by path, shared by its process and every exec into it. */
  files?: Map<string, string>;
}

const decoder = new TextDecoder();

/** What a built-in sees of the session it runs in. */
export interface BuiltinSession {
  readonly environment: CommandEnvironment;
  readonly input: Input;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly tty: boolean;
  readonly signal: AbortSignal;
  /** The exit status of the last command. */
  readonly lastStatus: number;
  /** The terminal size the client last sent. */
  readonly size: TerminalSize | undefined;
  /** Resolves once the client sent a terminal size. */
  readonly sizeKnown: Promise<void>;
  /** The container's files by path. */
  readonly files: Map<string, string>;
  /** Runs a script and resolves with its exit status. */
  script(text: string): Promise<number>;
}

/**
 * Runs built-in `argv[0]` (a path names its last part) with `argv`'s other words as
 * arguments; an unknown command is exit code 127 with a message listing the built-ins.
 */
export async function runBuiltin(session: BuiltinSession, argv: string[]): Promise<number> {
  const [path, ...args] = argv;
  const name = path.includes("/") ? path.slice(path.lastIndexOf("/") + 1) : path;
  switch (name) {
    case "echo": {
      const noNewline = args[0] === "-n";
      const text = (noNewline ? args.slice(1) : args).join(" ");
      await session.stdout.write(noNewline ? text : `${text}\n`);
      return 0;
    }
    case "cat":
      return await cat(session, args);
    case "env":
      await session.stdout.write(
        Object.entries(session.environment.env).map(([key, value]) => `${key}=${value}\n`)
          .join(""),
      );
      return 0;
    case "hostname":
      await session.stdout.write(`${session.environment.hostname}\n`);
      return 0;
    case "pwd":
      await session.stdout.write("/\n");
      return 0;
    case "true":
      return 0;
    case "false":
      return 1;
    case "sleep":
      return await sleep(session, args);
    case "exit": {
      const code = args.length === 0 ? session.lastStatus : Number(args[0]);
      if (!Number.isInteger(code)) {
        await session.stderr.write(`sh: exit: ${args[0]}: numeric argument required\n`);
        throw new ExitSignal(2);
      }
      throw new ExitSignal(((code % 256) + 256) % 256);
    }
    case "stty":
      if (args.length === 1 && args[0] === "size") {
        // The client sends the first size right after the streams open: give it a moment.
        if (session.tty) {
          await Promise.race([session.sizeKnown, abortableSleep(1_000, session.signal)]);
        }
        session.signal.throwIfAborted();
        if (session.size === undefined) {
          await session.stderr.write("stty: standard input: not a terminal\n");
          return 1;
        }
        await session.stdout.write(`${session.size.height} ${session.size.width}\n`);
        return 0;
      }
      await session.stderr.write(`stty: only "stty size" is built in, found "${args.join(" ")}"\n`);
      return 1;
    case "touch":
      for (const file of args) if (!session.files.has(file)) session.files.set(file, "");
      return 0;
    case "rm":
      return await rm(session, args);
    case "test":
      return test(session, args);
    case "[":
      if (args.at(-1) !== "]") {
        await session.stderr.write("sh: [: missing ]\n");
        return 2;
      }
      return test(session, args.slice(0, -1));
    case "sh":
      return await sh(session, args);
    default:
      await session.stderr.write(
        `mock: ${name}: command not found (the mock container runs only its built-ins: ${
          builtinCommands.join(", ")
        })\n`,
      );
      return 127;
  }
}

async function rm(session: BuiltinSession, args: string[]): Promise<number> {
  const force = args.includes("-f");
  let status = 0;
  for (const file of args.filter((arg) => !arg.startsWith("-"))) {
    if (session.files.delete(file) || force) continue;
    await session.stderr.write(`rm: cannot remove '${file}': No such file or directory\n`);
    status = 1;
  }
  return status;
}

function test(session: BuiltinSession, args: string[]): number {
  if (args.length === 0) return 1;
  if (args[0] === "!") return test(session, args.slice(1)) === 0 ? 1 : 0;
  if (args.length === 2 && (args[0] === "-e" || args[0] === "-f")) {
    return session.files.has(args[1]) ? 0 : 1;
  }
  if (args.length === 2 && args[0] === "-n") return args[1] !== "" ? 0 : 1;
  if (args.length === 2 && args[0] === "-z") return args[1] === "" ? 0 : 1;
  if (args.length === 3 && args[1] === "=") return args[0] === args[2] ? 0 : 1;
  if (args.length === 3 && args[1] === "!=") return args[0] !== args[2] ? 0 : 1;
  return args.length === 1 && args[0] !== "" ? 0 : 1;
}

async function cat(session: BuiltinSession, args: string[]): Promise<number> {
  const files = args.filter((arg) => arg !== "-");
  if (files.length > 0) {
    let status = 0;
    for (const file of files) {
      const content = session.files.get(file);
      if (content !== undefined) await session.stdout.write(content);
      else {
        await session.stderr.write(`cat: ${file}: No such file or directory\n`);
        status = 1;
      }
    }
    return status;
  }
  while (true) {
    const bytes = await session.input.read(session.signal);
    if (bytes === null) return 0;
    await session.stdout.write(session.tty ? decoder.decode(bytes) : bytes);
  }
}

async function sleep(session: BuiltinSession, args: string[]): Promise<number> {
  const seconds = args[0] === "infinity" ? 2_147_483 : Number(args[0]);
  if (args.length !== 1 || !Number.isFinite(seconds) || seconds < 0) {
    await session.stderr.write(
      `sleep: expected one number of seconds, found "${args.join(" ")}"\n`,
    );
    return 1;
  }
  const interrupted = new AbortController();
  session.input.onInterrupt = () => {
    interrupted.abort();
    return true;
  };
  try {
    await abortableSleep(seconds * 1000, AbortSignal.any([session.signal, interrupted.signal]));
    if (interrupted.signal.aborted) throw new ExitSignal(130);
    if (session.signal.aborted) throw new ExitSignal(137);
    return 0;
  } finally {
    session.input.onInterrupt = () => false;
  }
}

async function sh(session: BuiltinSession, args: string[]): Promise<number> {
  if (args[0] === "-c") {
    if (args.length < 2) {
      await session.stderr.write("sh: -c: option requires an argument\n");
      return 2;
    }
    try {
      return await session.script(args[1]);
    } catch (error) {
      if (error instanceof ExitSignal) return error.code;
      throw error;
    }
  }
  if (args.length > 0) {
    await session.stderr.write(`sh: can't open '${args[0]}': No such file or directory\n`);
    return 2;
  }
  // Interactive: one line at a time until the end of input or `exit`.
  while (true) {
    if (session.tty) await session.stdout.write("$ ");
    let line: string | null;
    try {
      line = await session.input.readLine(session.signal);
    } catch (error) {
      if (error instanceof ExitSignal) continue;
      throw error;
    }
    if (line === null) {
      if (session.tty) await session.stdout.write("exit\n");
      return session.lastStatus;
    }
    try {
      await session.script(line);
    } catch (error) {
      if (!(error instanceof ExitSignal)) throw error;
      if (error.code === 130) continue;
      return error.code;
    }
  }
}
