/** The VM lifecycle end-to-end suite (tests/e2e/vm/suite.ts) on the vsphere provider and govmomi's simulator. */

import { vsphereBackend } from "./vm/backends.ts";
import { vmLifecycleTests } from "./vm/suite.ts";

vmLifecycleTests(vsphereBackend);
