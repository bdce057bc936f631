/** The VM lifecycle end-to-end suite (tests/e2e/vm/suite.ts) on the zstack provider and its simulator. */

import { zstackBackend } from "./vm/backends.ts";
import { vmLifecycleTests } from "./vm/suite.ts";

vmLifecycleTests(zstackBackend);
