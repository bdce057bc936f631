/**
 * The streams of a mock exec session: input as raw bytes, or with a TTY through a line
 * discipline (input echoed, Enter ends a line, Backspace erases, Ctrl-C interrupts, Ctrl-D
 * ends input), and output whose newlines become CR LF on a terminal; `ExitSignal` is how
 * `exit N` and Ctrl-C leave the interpreter.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown inside the interpreter by `exit N` and Ctrl-C; carries the exit code. */
export class ExitSignal {
  /** An exit with status `code`. */
  constructor(readonly code: number) {}
}

/**
 * The input side of a session: raw bytes, or with a TTY the lines a line discipline made
 * (echoing what is typed), where Ctrl-D ends one read and Ctrl-C interrupts the command.
 */
export class Input {
  readonly #queue: (Uint8Array | "eof" | "interrupt")[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  #line: number[] = [];
  readonly #tty: boolean;
  readonly #echo: (bytes: Uint8Array) => Promise<void>;
  /** Called on Ctrl-C with a TTY; true when it interrupted a command that reads no input. */
  onInterrupt: () => boolean = () => false;

  /** Reads `stdin` (none: input has ended), echoing what is typed through `echo` on a TTY. */
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
export class Output {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #tty: boolean;

  /** Writes to `stream` (none: output is dropped). */
  constructor(stream: WritableStream<Uint8Array> | undefined, tty: boolean) {
    this.#writer = stream?.getWriter();
    this.#tty = tty;
  }

  /** Writes text or bytes (text with CR LF newlines on a terminal). */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#writer === undefined) return;
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#tty && typeof data === "string") {
      bytes = encoder.encode(data.replace(/\r?\n/g, "\r\n"));
    }
    await this.#writer.write(bytes);
  }

  /** Closes the stream; one already closed is fine. */
  async close(): Promise<void> {
    await this.#writer?.close().catch(() => {});
  }
}
