"""``manage.py verify_audit_chain [--practice NAME_OR_ID]``: exit 0 when the chains hold, 1 naming the break."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit import chain
from audit.models import AuditEntry
from audit.tests.factories import AuditEntryFactory
from audit.tests.helpers import tamper

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_it_exits_0_when_every_chain_holds_chaining_pending_entries_first(practice, other_practice):
    AuditEntryFactory(practice=practice)
    AuditEntryFactory(practice=other_practice)
    AuditEntryFactory(practice=None)

    code, out, _err = run()

    assert code == 0
    assert "Alpha Family Clinic" in out and "Bravo Orthopedics" in out and "Global chain" in out
    assert not AuditEntry.objects.filter(sequence__isnull=True).exists()


def test_it_exits_1_naming_the_first_break(practice, other_practice):
    entries = [AuditEntryFactory(practice=practice) for _ in range(3)]
    AuditEntryFactory(practice=other_practice)
    chain.seal(practice.pk)
    tamper("UPDATE audit_auditentry SET message = %s WHERE id = %s", ["edited", entries[1].pk])

    code, out, err = run()

    assert code == 1
    assert f"Alpha Family Clinic (#{practice.pk}): BROKEN" in err
    assert f"entry {entries[1].pk}:" in err and "changed after it was written" in err
    assert "Bravo Orthopedics" in out  # the other practice's chain still holds


def test_it_checks_one_practice_by_name_or_id(practice, other_practice):
    entry = AuditEntryFactory(practice=other_practice)
    chain.seal(other_practice.pk)
    tamper("UPDATE audit_auditentry SET message = %s WHERE id = %s", ["edited", entry.pk])
    AuditEntryFactory(practice=practice)

    assert run("--practice", "Alpha Family Clinic")[0] == 0
    assert run("--practice", str(practice.pk))[0] == 0
    assert run("--practice", str(other_practice.pk))[0] == 1


def test_it_refuses_an_unknown_practice(practice):
    with pytest.raises(CommandError, match="No single practice"):
        call_command("verify_audit_chain", "--practice", "Nowhere Clinic")
