"""An ML2 mechanism driver for a Neutron API without agents, for vkedge's test stack.

Neutron's own mechanism drivers bind a port only when an agent (Open vSwitch, Linux
bridge) reports for the port's host; the test stack runs no agent, and Nova's
fake.FakeDriver plugs nothing. This driver binds every port on every host to the first
segment, as an Open vSwitch port that is ACTIVE at once, so that Nova gets a bound port
and the server its fixed IP from Neutron's IPAM. It is the network twin of Nova's fake
driver: the API and the IP allocation are Neutron's own, only the data plane is absent.
"""

from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    """Binds every port (any host, vnic type normal) as an ACTIVE OVS port."""

    def initialize(self):
        pass

    def bind_port(self, context):
        vnic_type = context.current.get(portbindings.VNIC_TYPE,
                                        portbindings.VNIC_NORMAL)
        if vnic_type != portbindings.VNIC_NORMAL:
            return
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: True,
                                 portbindings.OVS_HYBRID_PLUG: False},
                                status=constants.PORT_STATUS_ACTIVE)
            return
