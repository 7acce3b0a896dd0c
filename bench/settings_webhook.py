"""Settings for ``bench/webhook.py``: the project's, with the baseline endpoint's URLs added."""

from __future__ import annotations

from billingpulse.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
