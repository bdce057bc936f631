/**
 * Metrics of the reflectors, by reflector name: lists, relists after 410 Gone, watches
 * established and re-established, events applied by type, failures, and how long ago the
 * reflector's resourceVersion last advanced (read from the running reflectors when scraped).
 *
 * @module
 */

import type { Counter } from "prom-client";
import { counter, gauge, LiveInstances } from "../metrics/mod.ts";

const live = new LiveInstances<ReflectorMetrics>();

/** The types of the events a reflector applies. */
export type AppliedEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

const lists = counter({
  name: "vkedge_reflector_lists_total",
  help: "Full lists of the collection (all pages), the first one included.",
  labelNames: ["name"],
});

const relists = counter({
  name: "vkedge_reflector_relists_total",
  help: "Lists made again because the resourceVersion to watch from was too old (410 Gone).",
  labelNames: ["name"],
});

const watches = counter({
  name: "vkedge_reflector_watches_total",
  help: "Watch requests established.",
  labelNames: ["name"],
});

const watchRestarts = counter({
  name: "vkedge_reflector_watch_restarts_total",
  help:
    "Watch requests established again from the last resourceVersion after one ended or dropped, without a list.",
  labelNames: ["name"],
});

const events = counter({
  name: "vkedge_reflector_events_total",
  help: "Watch events applied to the store, by type (ADDED, MODIFIED, DELETED, BOOKMARK).",
  labelNames: ["name", "type"],
});

const failures = counter({
  name: "vkedge_reflector_failures_total",
  help: "Lists or watches that failed and were retried after a backoff (410 Gone excluded).",
  labelNames: ["name"],
});

gauge({
  name: "vkedge_reflector_last_sync_age_seconds",
  help:
    "Seconds since the reflector's resourceVersion last advanced (by a list, an event or a bookmark).",
  labelNames: ["name"],
  collect(age) {
    age.reset();
    const now = performance.now();
    const byName = new Map<string, number>();
    for (const metrics of live) {
      const seconds = metrics.lastSyncAgeSeconds(now);
      if (seconds === undefined) continue;
      byName.set(metrics.name, Math.max(byName.get(metrics.name) ?? 0, seconds));
    }
    for (const [name, seconds] of byName) age.set({ name }, seconds);
  },
});

/** What one reflector reports: told by the reflector as it lists, watches and applies. */
export class ReflectorMetrics {
  /** The reflector's name, the `name` label. */
  readonly name: string;
  readonly #lists: Counter.Internal;
  readonly #relists: Counter.Internal;
  readonly #watches: Counter.Internal;
  readonly #watchRestarts: Counter.Internal;
  readonly #failures: Counter.Internal;
  readonly #events: Record<AppliedEventType, Counter.Internal>;
  #syncedAt: number | undefined;

  /** Creates the metrics of the reflector named `name`; they report while it runs. */
  constructor(name: string) {
    this.name = name;
    this.#lists = lists.labels({ name });
    this.#relists = relists.labels({ name });
    this.#watches = watches.labels({ name });
    this.#watchRestarts = watchRestarts.labels({ name });
    this.#failures = failures.labels({ name });
    this.#events = {
      ADDED: events.labels({ name, type: "ADDED" }),
      MODIFIED: events.labels({ name, type: "MODIFIED" }),
      DELETED: events.labels({ name, type: "DELETED" }),
      BOOKMARK: events.labels({ name, type: "BOOKMARK" }),
    };
    // Series start at 0, so that the first increment is a visible change.
    const children = [this.#lists, this.#relists, this.#watches, this.#watchRestarts];
    for (const child of [...children, this.#failures, ...Object.values(this.#events)]) {
      child.inc(0);
    }
  }

  /** The reflector started running. */
  started(): void {
    live.add(this);
  }

  /** The reflector stopped. */
  stopped(): void {
    live.delete(this);
  }

  /** A full list completed; `gone` when it followed a 410. */
  listed(gone: boolean): void {
    this.#lists.inc();
    if (gone) this.#relists.inc();
    this.synced();
  }

  /** A watch request was established; `restart` when it resumes an earlier one. */
  watchOpened(restart: boolean): void {
    this.#watches.inc();
    if (restart) this.#watchRestarts.inc();
  }

  /** An event was applied to the store. */
  applied(type: AppliedEventType): void {
    this.#events[type].inc();
  }

  /** The resourceVersion advanced. */
  synced(): void {
    this.#syncedAt = performance.now();
  }

  /** A list or watch failed and is retried. */
  failed(): void {
    this.#failures.inc();
  }

  /** Seconds since the resourceVersion last advanced, `undefined` before the first time. */
  lastSyncAgeSeconds(now: number): number | undefined {
    return this.#syncedAt === undefined ? undefined : (now - this.#syncedAt) / 1000;
  }
}
