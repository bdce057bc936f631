/**
 * Logging set-up for the agent: text lines for a terminal or JSON lines for a
 * log collector, on standard error, with secrets redacted from structured
 * properties before any sink sees them.
 *
 * @module
 */

import {
  configureSync,
  getJsonLinesFormatter,
  getTextFormatter,
  type LogLevel,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";

/** The log formats `--log-format` accepts. */
export type LogFormat = "text" | "json";

/** The levels `--log-level` accepts, lowest first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;

const SECRET_KEY = /token|password|passwd|secret|authorization|private.?key|credential|cookie/i;

/** The value that replaces a secret in a log record. */
export const REDACTED = "[REDACTED]";

/**
 * Returns a copy of `value` in which every property whose name suggests a
 * secret (token, password, authorization, private key, …) is replaced, at any depth.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value instanceof Error || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactSecrets(inner, depth + 1);
  }
  return out;
}

function placeholderNames(rawMessage: string | TemplateStringsArray): string[] {
  if (typeof rawMessage !== "string") return [];
  return [...rawMessage.matchAll(/\{([^{}]+)\}/g)].map((match) => match[1].trim());
}

function redactRecord(record: LogRecord, context: Record<string, unknown>): LogRecord {
  const properties = redactSecrets({ ...context, ...record.properties }) as Record<
    string,
    unknown
  >;
  const names = placeholderNames(record.rawMessage);
  // Odd elements of `message` are the values substituted for the placeholders.
  const message = record.message.map((part, i) => {
    if (i % 2 === 0) return part;
    return SECRET_KEY.test(names[(i - 1) / 2] ?? "") ? REDACTED : redactSecrets(part);
  });
  return { ...record, properties, message };
}

/** Options of {@linkcode redactingSink}. */
export interface SinkOptions {
  /**
   * Properties every record carries (such as `node`), under the record's own: JSON lines
   * show them, text lines do not repeat them.
   */
  context?: Record<string, unknown>;
}

/** A sink that writes formatted, redacted records synchronously to `write`. */
export function redactingSink(
  format: LogFormat,
  write: (line: string) => void,
  options: SinkOptions = {},
): Sink {
  const formatter = format === "json"
    ? getJsonLinesFormatter({ properties: "nest:fields" })
    : getTextFormatter({ timestamp: "date-time-timezone", category: "." });
  const context = options.context ?? {};
  return (record: LogRecord) => write(formatter(redactRecord(record, context)));
}

/** Configures the `vkedge` loggers once at start-up. */
export function setupLogging(
  options: { level: LogLevel; format: LogFormat; context?: Record<string, unknown> },
): void {
  const encoder = new TextEncoder();
  configureSync({
    reset: true,
    sinks: {
      stderr: redactingSink(options.format, (line) => {
        Deno.stderr.writeSync(encoder.encode(line));
      }, { context: options.context }),
    },
    loggers: [
      { category: ["vkedge"], lowestLevel: options.level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
