/** The VM lifecycle end-to-end suite (tests/e2e/vm/suite.ts) on the mock provider. */

import { mockBackend } from "./vm/backends.ts";
import { vmLifecycleTests } from "./vm/suite.ts";

vmLifecycleTests(mockBackend);
