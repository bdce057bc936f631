"""Nova's fake.FakeDriver, completed where the test stack needs a hypervisor's behaviour.

Nova's own test driver (nova.virt.fake.FakeDriver) runs servers without a hypervisor,
and this module keeps all of it, adding only:

- snapshots: FakeDriver.snapshot uploads nothing, so the image Nova made stays
  'queued' for ever; like a real driver at the end of its snapshot, this one uploads
  the (tiny) disk to Glance through Nova's image API, so the image becomes 'active';
- slow servers: actions on a server whose name starts with SLOW_PREFIX (power off,
  power on, reboot, snapshot, live migration) take SLOW_SECONDS, so that a test can
  stop the agent in the middle of one. Every other server is as fast as FakeDriver.

Nova loads it with compute_driver = vkedge_nova_fake.FakeDriver (this folder on
PYTHONPATH).
"""

import io

from eventlet import greenthread

from nova.image import glance
from nova.virt import fake

SLOW_PREFIX = "vkedge-slow-"
SLOW_SECONDS = 4
SNAPSHOT_BYTES = 64 * 1024


class FakeDriver(fake.FakeDriver):
    """FakeDriver with snapshot uploads and slow servers (see the module docstring)."""

    @staticmethod
    def _pace(instance):
        if (instance.display_name or "").startswith(SLOW_PREFIX):
            greenthread.sleep(SLOW_SECONDS)

    def snapshot(self, context, instance, image_id, update_task_state):
        super().snapshot(context, instance, image_id, update_task_state)
        self._pace(instance)
        glance.API().update(
            context, image_id,
            {"disk_format": "raw", "container_format": "bare"},
            data=io.BytesIO(bytes(SNAPSHOT_BYTES)), purge_props=False)

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None):
        self._pace(instance)
        super().reboot(context, instance, network_info, reboot_type,
                       block_device_info=block_device_info,
                       bad_volumes_callback=bad_volumes_callback,
                       accel_info=accel_info)

    def power_off(self, instance, timeout=0, retry_interval=0):
        self._pace(instance)
        super().power_off(instance, timeout=timeout,
                          retry_interval=retry_interval)

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None):
        self._pace(instance)
        super().power_on(context, instance, network_info,
                         block_device_info=block_device_info,
                         accel_info=accel_info)

    def live_migration(self, context, instance, dest, post_method,
                       recover_method, block_migration=False,
                       migrate_data=None):
        self._pace(instance)
        super().live_migration(context, instance, dest, post_method,
                               recover_method, block_migration=block_migration,
                               migrate_data=migrate_data)
