/**
 * Counts and times every call the agent makes into its provider, whichever provider it is:
 * `instrumentProvider` returns a provider with the same methods (so the `has*` capability
 * guards answer the same) whose asynchronous calls report into
 * `vkedge_provider_requests_total{method,outcome}` and
 * `vkedge_provider_request_duration_seconds{method}`. The outcome is `success` or the
 * contract error's kind (`not_found`, `unavailable`, …), `aborted`, or `error` for
 * anything unclassified.
 *
 * @module
 */

import {
  AlreadyExistsError,
  findProviderError,
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  type Provider,
  ResourceExhaustedError,
  UnavailableError,
} from "./provider.ts";
import { counter, histogram } from "./metrics/mod.ts";

const requests = counter<"method" | "outcome">({
  name: "vkedge_provider_requests_total",
  help: "Calls the agent made into its provider, by method and outcome (success or the " +
    "error kind).",
  labelNames: ["method", "outcome"],
});

const duration = histogram<"method">({
  name: "vkedge_provider_request_duration_seconds",
  help: "Time provider calls took until they resolved or failed, by method.",
  labelNames: ["method"],
});

const ERROR_KINDS: [new (...args: never[]) => Error, string][] = [
  [NotFoundError, "not_found"],
  [AlreadyExistsError, "already_exists"],
  [InvalidInputError, "invalid_input"],
  [NotImplementedError, "not_implemented"],
  [ResourceExhaustedError, "resource_exhausted"],
  [UnavailableError, "unavailable"],
];

/** The `outcome` label of a failed provider call. */
export function outcomeOf(error: unknown, signal?: AbortSignal): string {
  const classified = findProviderError(error);
  for (const [kind, label] of ERROR_KINDS) {
    if (classified instanceof kind) return label;
  }
  if (signal?.aborted || (error instanceof DOMException && error.name === "AbortError")) {
    return "aborted";
  }
  return "error";
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/** The names of the provider's methods, its own and its classes', `constructor` excepted. */
function methodNames(provider: object): string[] {
  const names = new Set<string>();
  for (
    let object: object | null = provider;
    object !== null && object !== Object.prototype;
    object = Object.getPrototypeOf(object)
  ) {
    for (const name of Object.getOwnPropertyNames(object)) {
      if (name === "constructor") continue;
      const descriptor = Object.getOwnPropertyDescriptor(object, name);
      if (descriptor !== undefined && typeof descriptor.value === "function") names.add(name);
    }
  }
  return [...names];
}

function lastSignal(args: unknown[]): AbortSignal | undefined {
  const last = args.at(-1);
  return last instanceof AbortSignal ? last : undefined;
}

/**
 * A provider that forwards every method to `provider` and measures the calls that return
 * a promise. Other properties (`name`, capability markers) are read through; methods the wrapper does not know
 * of (a new capability) are forwarded and measured all the same.
 */
export function instrumentProvider(provider: Provider): Provider {
  const source = provider as unknown as Record<string, unknown>;
  const wrapper: Record<string, unknown> = {};
  for (const name of methodNames(provider)) {
    const method = source[name] as (...args: unknown[]) => unknown;
    wrapper[name] = (...args: unknown[]): unknown => {
      const started = performance.now();
      let result: unknown;
      try {
        result = method.apply(provider, args);
      } catch (error) {
        requests.inc({ method: name, outcome: outcomeOf(error, lastSignal(args)) });
        throw error;
      }
      if (!isPromise(result)) return result;
      return result.then(
        (value) => {
          requests.inc({ method: name, outcome: "success" });
          duration.observe({ method: name }, (performance.now() - started) / 1000);
          return value;
        },
        (error: unknown) => {
          requests.inc({ method: name, outcome: outcomeOf(error, lastSignal(args)) });
          duration.observe({ method: name }, (performance.now() - started) / 1000);
          throw error;
        },
      );
    };
  }
  // Data properties (`name`, markers such as `probesAndRestartsBelow`) are read through.
  for (const key of new Set(["name", ...Object.keys(provider)])) {
    if (key in wrapper) continue;
    Object.defineProperty(wrapper, key, { get: () => source[key], enumerable: true });
  }
  return wrapper as unknown as Provider;
}
