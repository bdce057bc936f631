/**
 * The `mock` provider module: an in-memory provider for demos, benchmarks and conformance
 * runs. Its configuration is described in `config.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { parseMockConfig } from "./config.ts";
import { MockProvider } from "./mock_provider.ts";

export { type MockConfig, mockConfigSchema, parseMockConfig } from "./config.ts";
export { type MockFault, MockProvider, type MockProviderOptions } from "./mock_provider.ts";

/** The mock provider module, as registered in `providers/mod.ts`. */
const mockProviderModule: ProviderModule = {
  name: "mock",
  description: "in-memory pods that run at once, with logs, stats and metrics (demos, tests)",
  create(options) {
    return Promise.try(() => new MockProvider(parseMockConfig(options.config), options));
  },
};

export default mockProviderModule;
