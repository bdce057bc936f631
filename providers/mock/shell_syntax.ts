/**
 * The syntax of the mock's built-in `sh`: a line split into words (with '…', "…",
 * backslash quoting and `$VAR`/`$?`/`${VAR}` expansion), and a script cut at `;`, `&&`,
 * `||` and newlines and parsed into simple commands, `while`/`until`, `for NAME in …` and
 * `if … then … elif … else … fi`.
 *
 * @module
 */

/** One word of a shell line, split at unquoted spaces, with quotes removed and `$` expanded. */
export function splitWords(text: string, lookup: (name: string) => string): string[] {
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
export type Operator = ";" | "&&" | "||";

/** One command of a script, as cut at its operators. */
interface Piece {
  op: Operator;
  text: string;
}

/** A parsed command: a simple one, or a loop or `if` made of lists of them. */
export type ScriptNode =
  | { kind: "simple"; op: Operator; text: string }
  | { kind: "while"; op: Operator; until: boolean; condition: ScriptNode[]; body: ScriptNode[] }
  | { kind: "for"; op: Operator; name: string; words: string; body: ScriptNode[] }
  | {
    kind: "if";
    op: Operator;
    branches: { condition: ScriptNode[]; body: ScriptNode[] }[];
    otherwise: ScriptNode[];
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
  list(stops: string[]): ScriptNode[] {
    const nodes: ScriptNode[] = [];
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
        const branches: { condition: ScriptNode[]; body: ScriptNode[] }[] = [];
        let otherwise: ScriptNode[] = [];
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
export function parseScript(script: string): ScriptNode[] {
  return new Parser(splitCommands(script)).list([]);
}
