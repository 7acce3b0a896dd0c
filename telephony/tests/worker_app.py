"""The project's Celery app for test_worker_redis's worker, recovering lost messages in seconds.

A worker killed with SIGKILL cannot hand its unacknowledged messages back; Redis gives
them to another worker once the visibility timeout passes (an hour by default). The test
shortens it, the pause between restore sweeps and the restore lock's lifetime.

    celery -A telephony.tests.worker_app worker
"""

from __future__ import annotations

import os

from billingpulse.celery import app

app.conf.broker_transport_options = {
    **(app.conf.broker_transport_options or {}),
    "visibility_timeout": int(os.environ.get("TEST_VISIBILITY_TIMEOUT", "10")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    # A worker killed while it held the restore lock would otherwise block restores for 5 minutes.
    "unacked_mutex_expire": 3,
}

__all__ = ["app"]
