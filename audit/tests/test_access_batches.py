"""A page view costs one INSERT: its entry is chained with the practice's next batch, by the next
other entry, the sweep or verification, and the chain stays exact."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

import audit
from audit import chain
from audit.models import Action, AuditEntry
from audit.tests.helpers import entries
from audit.tests.helpers import last_id as newest_id
from claims.tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db


def _audit_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "audit_audit" in q["sql"]]


def test_a_view_is_one_insert_and_no_chaining_step(owner_client, practice, django_capture_on_commit_callbacks):
    claim = ClaimFactory(practice=practice)
    owner_client.get(f"/claims/{claim.pk}/")  # sessions, caches

    with (
        mock.patch.object(chain, "ACCESS_BATCH", 10**9),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        response = owner_client.get(f"/claims/{claim.pk}/")

    assert response.status_code == 200
    [statement] = _audit_statements(queries.captured_queries)
    assert statement.startswith("INSERT INTO")
    assert callbacks == []  # no chaining after commit
    # The record's own patient, found by the same statement.
    entry = entries(action=Action.VIEWED, resource_id=str(claim.pk))[-1]
    assert (entry.patient_id, entry.sequence) == (claim.patient_id, None)


# Committed for real (as in production), so chaining runs after each commit.
@pytest.mark.django_db(transaction=True)
def test_every_batch_th_view_chains_the_practice_pending_entries(owner_client, practice):
    claim = ClaimFactory(practice=practice)
    with mock.patch.object(chain, "ACCESS_BATCH", 10**9):
        for _ in range(3):
            owner_client.get(f"/claims/{claim.pk}/")
    assert AuditEntry.objects.filter(practice=practice, sequence__isnull=True).count() >= 3

    with mock.patch.object(chain, "ACCESS_BATCH", 1):
        owner_client.get(f"/claims/{claim.pk}/")

    assert not AuditEntry.objects.filter(practice=practice, sequence__isnull=True).exists()
    assert chain.verify(practice.pk) == (AuditEntry.objects.filter(practice=practice).count(), None)


# Committed for real (as in production), so chaining runs after each commit.
@pytest.mark.django_db(transaction=True)
def test_the_next_other_entry_chains_pending_views_in_the_order_written(owner_client, practice):
    claim = ClaimFactory(practice=practice)
    before = newest_id()
    with mock.patch.object(chain, "ACCESS_BATCH", 10**9):
        for _ in range(3):
            owner_client.get(f"/claims/{claim.pk}/")

    audit.record("exported", practice=practice, actor=None, resource_type="claim", resource_id=claim.pk)

    mine = [entry for entry in entries(practice=practice) if entry.pk > before]
    assert [entry.action for entry in mine] == [Action.VIEWED] * 3 + [Action.EXPORTED]
    assert [entry.sequence for entry in mine] == sorted(entry.sequence for entry in mine)
    assert None not in [entry.sequence for entry in mine]
    assert chain.verify(practice.pk)[1] is None


def test_verification_chains_pending_views_first(owner_client, practice):
    claim = ClaimFactory(practice=practice)
    with mock.patch.object(chain, "ACCESS_BATCH", 10**9):
        for _ in range(2):
            owner_client.get(f"/claims/{claim.pk}/")
    pending = AuditEntry.objects.filter(practice=practice, sequence__isnull=True).count()
    assert pending >= 2

    out = StringIO()
    call_command("verify_audit_chain", "--practice", str(practice.pk), stdout=out)

    total = AuditEntry.objects.filter(practice=practice).count()
    assert f"{total} entries, chain holds." in out.getvalue()
    assert not AuditEntry.objects.filter(practice=practice, sequence__isnull=True).exists()


def test_the_sweep_chains_what_views_left(owner_client, practice):
    from audit.tasks import seal_audit_chains

    claim = ClaimFactory(practice=practice)
    with mock.patch.object(chain, "ACCESS_BATCH", 10**9):
        owner_client.get(f"/claims/{claim.pk}/")

    assert seal_audit_chains() >= 1
    assert not AuditEntry.objects.filter(sequence__isnull=True).exists()


def test_a_view_of_another_practices_claim_writes_nothing(owner_client, other_practice):
    claim = ClaimFactory(practice=other_practice)
    before = newest_id()

    assert owner_client.get(f"/claims/{claim.pk}/").status_code == 404
    assert AuditEntry.objects.filter(pk__gt=before, action=Action.VIEWED).count() == 0
