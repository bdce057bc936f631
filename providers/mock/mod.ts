/**
 * The `mock` provider module: an in-memory provider for demos, benchmarks and conformance
 * runs, with a simulated VM behind every pod. Its configuration is described in `config.ts`.
 *
 * @module
 */

import type { ProviderModule } from "../../lib/provider.ts";
import { parseMockConfig } from "./config.ts";
import { MockProvider } from "./mock_provider.ts";

export { type MockConfig, mockConfigSchema, parseMockConfig } from "./config.ts";
export {
  type MockFault,
  type MockPowerState,
  MockProvider,
  type MockProviderOptions,
  type MockVirtualMachineState,
  type VmOperation,
  type VmOperationCounts,
} from "./mock_provider.ts";

/** The mock provider module, as registered in `providers/mod.ts`. */
const mockProviderModule: ProviderModule = {
  name: "mock",
  description:
    "in-memory pods that run at once, with logs, stats, metrics and simulated VMs (demos, tests)",
  create(options) {
    return Promise.try(() => new MockProvider(parseMockConfig(options.config), options));
  },
};

export default mockProviderModule;
