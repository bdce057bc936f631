// Test doubles for the watch, reflector and informer unit tests: streams and a
// fake collection that answers list and watch like the API server does.

import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import {
  errorFromStatus,
  type KubeList,
  type ListOptions,
  type WatchOptions,
  WatchStream,
} from "../../../lib/kube/mod.ts";

/** A byte stream that emits `chunks` and then closes (or errors with `error`). */
export function byteStream(
  chunks: string[],
  options: { error?: Error; onCancel?: () => void } = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        controller.enqueue(encoder.encode(chunks[i++]));
      } else if (options.error !== undefined) {
        controller.error(options.error);
      } else {
        controller.close();
      }
    },
    cancel() {
      options.onCancel?.();
    },
  });
}

/** A ConfigMap in namespace `ns`. */
export function configMap(name: string, resourceVersion: string, data = "v"): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { namespace: "ns", name, resourceVersion, uid: `uid-${name}` },
    data: { value: data },
  };
}

/** An event line of a watch stream. */
export function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

/** One scripted answer of a {@linkcode FakeCollection} watch call. */
export type WatchScript = { lines: string[]; error?: Error } | { status: number; reason: string };

/** A collection that lists its current items and replays scripted watch answers. */
export class FakeCollection {
  items = new Map<string, ConfigMap>();
  resourceVersion = "10";
  listCalls: ListOptions[] = [];
  watchCalls: WatchOptions[] = [];
  scripts: WatchScript[] = [];
  /** Successive list answers `[resourceVersion, items]`; when empty, `items` at `resourceVersion`. */
  lists: [string, ConfigMap[]][] = [];

  listAll(options: ListOptions): Promise<KubeList<ConfigMap>> {
    this.listCalls.push(options);
    const [resourceVersion, items] = this.lists.shift() ??
      [this.resourceVersion, [...this.items.values()]];
    return Promise.resolve({ metadata: { resourceVersion }, items });
  }

  async watch(options: WatchOptions): Promise<WatchStream<ConfigMap>> {
    this.watchCalls.push(options);
    const script = this.scripts.shift();
    if (script === undefined) {
      // Nothing scripted: a watch that stays open until aborted.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          options.signal?.addEventListener("abort", () => controller.error(options.signal?.reason));
        },
      });
      return new WatchStream<ConfigMap>(stream, { signal: options.signal });
    }
    if ("status" in script) {
      await Promise.resolve();
      throw errorFromStatus(script.status, {
        kind: "Status",
        code: script.status,
        reason: script.reason,
        message: "scripted",
      });
    }
    return new WatchStream<ConfigMap>(byteStream(script.lines, { error: script.error }), {
      signal: options.signal,
    });
  }
}
