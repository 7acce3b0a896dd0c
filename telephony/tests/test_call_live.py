from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db


def test_it_agrees_in_python_and_in_the_query(practice):
    now = timezone.now()
    cases = {
        "queued": ({"status": Call.Status.QUEUED}, True),
        "in progress": ({"status": Call.Status.IN_PROGRESS}, True),
        "just ended, no report": ({"status": Call.Status.ENDED, "status_changed_at": now - timedelta(minutes=2)}, True),
        "ended long ago, no report": (
            {"status": Call.Status.ENDED, "status_changed_at": now - timedelta(minutes=11)},
            False,
        ),
        "just ended, report in": (
            {"status": Call.Status.ENDED, "status_changed_at": now - timedelta(minutes=2), "report_received_at": now},
            False,
        ),
        "failed just now": ({"status": Call.Status.FAILED, "status_changed_at": now}, False),
    }
    calls = {name: CallFactory(practice=practice, **fields) for name, (fields, _live) in cases.items()}
    live_ids = set(Call.objects.live().values_list("pk", flat=True))

    for name, (_fields, live) in cases.items():
        call = Call.objects.get(pk=calls[name].pk)
        assert call.is_live is live, name
        assert (call.pk in live_ids) is live, name
    assert Call.objects.get(pk=calls["just ended, no report"].pk).awaiting_report
    assert not Call.objects.get(pk=calls["queued"].pk).awaiting_report
