"""The hash chain: entries link up per practice, and a changed, deleted or reordered row is found."""

from __future__ import annotations

import pytest

from audit import chain
from audit.models import AuditChain, AuditEntry
from audit.tests.factories import AuditEntryFactory
from audit.tests.helpers import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def chained(practice) -> list[AuditEntry]:
    """Five entries of the practice, chained."""
    made = [AuditEntryFactory(practice=practice) for _ in range(5)]
    chain.seal(practice.pk)
    return [AuditEntry.objects.get(pk=entry.pk) for entry in made]


def test_it_links_each_entry_to_the_one_before_it_in_its_practice(practice, other_practice):
    AuditEntryFactory(practice=other_practice)
    first, second = AuditEntryFactory(practice=practice), AuditEntryFactory(practice=practice)

    assert chain.seal(practice.pk) == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sequence, first.previous_hash) == (1, "")
    assert (second.sequence, second.previous_hash) == (2, first.hash)
    assert second.hash == chain.entry_hash(second) and len(second.hash) == 64
    head = AuditChain.objects.get(practice=practice)
    assert (head.last_sequence, head.last_hash) == (2, second.hash)
    # The other practice's entry waits for its own chain.
    assert AuditEntry.objects.get(practice=other_practice).sequence is None


def test_it_chains_practice_less_events_in_the_global_chain():
    entry = AuditEntryFactory(practice=None)

    chain.seal(None)

    entry.refresh_from_db()
    assert entry.sequence == 1
    assert AuditChain.objects.filter(key="global").exists()
    assert chain.verify(None) == (1, None)


def test_it_chains_after_the_writers_transaction_commits(practice, django_capture_on_commit_callbacks):
    import audit

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(3):
            entry = audit.record("viewed", practice=practice, actor=None, resource_type="claim", resource_id=1)

    # One chaining step for the three entries of the transaction.
    assert len(callbacks) == 1
    entry.refresh_from_db()
    assert entry.sequence == AuditEntry.objects.filter(practice=practice).count()


def test_it_verifies_an_intact_chain(chained, practice):
    assert chain.verify(practice.pk) == (5, None)


def test_it_finds_a_changed_message(chained, practice):
    tamper("UPDATE audit_auditentry SET message = %s WHERE id = %s", ["nothing to see", chained[2].pk])

    checked, fault = chain.verify(practice.pk)

    assert checked == 2
    assert fault.entry_id == chained[2].pk
    assert "changed after it was written" in fault.problem


def test_it_finds_a_deleted_entry(chained, practice):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chained[1].pk])

    checked, fault = chain.verify(practice.pk)

    assert checked == 1
    assert fault.entry_id == chained[2].pk
    assert "2 is missing (deleted)" in fault.problem


def test_it_finds_reordered_entries(chained, practice):
    a, b = chained[1], chained[2]
    tamper("UPDATE audit_auditentry SET sequence = NULL WHERE id IN (%s, %s)", [a.pk, b.pk])
    tamper("UPDATE audit_auditentry SET sequence = %s WHERE id = %s", [b.sequence, a.pk])
    tamper("UPDATE audit_auditentry SET sequence = %s WHERE id = %s", [a.sequence, b.pk])

    checked, fault = chain.verify(practice.pk)

    assert checked == 1
    assert fault.entry_id == b.pk
    assert "does not link to the entry before it" in fault.problem


def test_it_finds_entries_removed_from_the_end(chained, practice):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [chained[-1].pk])

    checked, fault = chain.verify(practice.pk)

    assert checked == 4
    assert fault.entry_id is None
    assert "ends at place 4 but its head records 5" in fault.problem


def test_it_finds_a_forged_hash_that_no_longer_links(chained, practice):
    # Recomputing a changed entry's own hash breaks the next entry's link instead.
    forged = chained[2]
    forged.message = "nothing to see"
    tamper(
        "UPDATE audit_auditentry SET message = %s, hash = %s WHERE id = %s",
        [forged.message, chain.entry_hash(forged), forged.pk],
    )

    _checked, fault = chain.verify(practice.pk)

    assert fault.entry_id == chained[3].pk
