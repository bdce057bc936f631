/**
 * The VM lifecycle end-to-end suite (tests/e2e/vm/suite.ts) on the openstack provider and
 * the real Nova API of the OpenStack test stack (Nova's fake hypervisor, two compute hosts).
 */

import { openstackBackend } from "./vm/backends.ts";
import { vmLifecycleTests } from "./vm/suite.ts";

vmLifecycleTests(openstackBackend);
