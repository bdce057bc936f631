/**
 * The container-log options stream: given the lines of one container's log, applies the
 * kubelet's log options (`tail`, `sinceSeconds`/`sinceTime`, `limitBytes`, `timestamps`,
 * `follow`) and returns the byte stream `getContainerLogs` answers with. A provider only
 * says which lines it holds and when more may come.
 *
 * @module
 */

import type { ContainerLogOptions } from "../provider_capabilities.ts";

/** One log line. */
export interface LogLine {
  /** When it was written (milliseconds since the epoch). */
  timeMs: number;
  /** The text, without its line break. */
  text: string;
}

/**
 * The lines of one container's log, by index: `first()` up to (not including) `end()`.
 * Lines before `first()` may have been dropped (a ring buffer); times never decrease.
 */
export interface LogLineSource {
  /** Index of the oldest line still held. */
  first(): number;
  /** Index one past the newest line available now. */
  end(): number;
  /** The line at `index`, for `first() <= index < end()`. */
  line(index: number): LogLine;
  /** Whether no more lines will come (the container ended, the pod is gone). */
  ended(): boolean;
  /** Resolves when `end()` or `ended()` may have changed, or as soon as `signal` aborts. */
  changed(signal: AbortSignal): Promise<void>;
  /** The source's clock, for `sinceSeconds` (default `Date.now`). */
  now?(): number;
}

/** A line's timestamp as the kubelet writes it: RFC 3339 with nine fractional digits. */
export function formatLogTimestamp(timeMs: number): string {
  return new Date(timeMs).toISOString().replace("Z", "000000Z");
}

/** Index of the first line at or after `sinceMs` (binary search: times never decrease). */
function firstSince(source: LogLineSource, sinceMs: number): number {
  let low = source.first();
  let high = source.end();
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (source.line(middle).timeMs < sinceMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Streams the lines of `source` as `options` ask: the first line at or after the since
 * bound, at most the last `tail` of those, each with its timestamp if asked, cut at
 * `limitBytes`; with `follow`, new lines until the source ends or `signal` aborts.
 */
export function streamLogLines(
  source: LogLineSource,
  options: ContainerLogOptions,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const now = source.now ?? Date.now;
  const sinceMs = options.sinceTime !== undefined
    ? options.sinceTime.getTime()
    : options.sinceSeconds !== undefined
    ? now() - options.sinceSeconds * 1000
    : undefined;
  let next = sinceMs === undefined ? source.first() : firstSince(source, sinceMs);
  if (options.tail !== undefined) next = Math.max(next, source.end() - options.tail);
  let remaining = options.limitBytes ?? Infinity;
  const follow = options.follow === true;
  const cancelled = new AbortController();
  const stop = AbortSignal.any([signal, cancelled.signal]);
  const encoder = new TextEncoder();

  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      while (true) {
        if (stop.aborted || remaining <= 0) return controller.close();
        next = Math.max(next, source.first());
        if (next >= source.end()) {
          if (!follow || source.ended()) return controller.close();
          await source.changed(stop);
          continue;
        }
        const line = source.line(next++);
        if (sinceMs !== undefined && line.timeMs < sinceMs) continue; // followed into the future
        const text = options.timestamps
          ? `${formatLogTimestamp(line.timeMs)} ${line.text}\n`
          : `${line.text}\n`;
        let bytes = encoder.encode(text);
        if (bytes.length > remaining) bytes = bytes.subarray(0, remaining);
        remaining -= bytes.length;
        controller.enqueue(bytes);
        return;
      }
    },
    cancel(): void {
      cancelled.abort();
    },
  });
}
