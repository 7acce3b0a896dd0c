"""``manage.py post_era``: previews, posts, and refuses with exit code 1 and the reason on stderr."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.era.demo import ClaimPaid, build_835
from billing.models import JournalTransaction, Remittance
from billing.tests.test_era_posting import D, make_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def era_file(practice, tmp_path):
    make_claim(practice, "CLM-1", "100.00")
    path = tmp_path / "payer.835"
    path.write_bytes(
        build_835([ClaimPaid("CLM-1", D("100.00"), D("80.00"), adjustments=[("CO", "45", D("20.00"))])], trace="T1")
    )
    return path


def run(*args) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("post_era", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_posts_and_prints_the_summary(practice, era_file):
    out, _ = run(str(era_file), "--practice", practice.name)
    assert "pass  Payment rule" in out and "matched 1, unmatched 0" in out
    assert "1 claim posted ($80.00 paid)" in out
    assert Remittance.objects.get().status == Remittance.Status.POSTED


def test_it_previews_without_storing_on_a_dry_run(practice, era_file):
    out, _ = run(str(era_file), "--practice", str(practice.pk), "--dry-run")
    assert "CLM-1" in out and "Dry run: nothing was stored or posted." in out
    assert not Remittance.objects.exists()
    assert not JournalTransaction.objects.filter(source="era").exists()


def test_it_refuses_the_same_file_twice_with_exit_code_1(practice, era_file):
    run(str(era_file), "--practice", practice.name)
    with pytest.raises(CommandError, match="already posted") as refused:
        run(str(era_file), "--practice", practice.name)
    assert refused.value.returncode == 1


def test_it_refuses_unmatched_claims_unless_held(practice, tmp_path):
    path = tmp_path / "unknown.835"
    path.write_bytes(build_835([ClaimPaid("NOPE-1", D("50.00"), D("50.00"))], trace="T9"))
    with pytest.raises(CommandError, match="cannot be posted to a claim yet"):
        run(str(path), "--practice", practice.name)
    assert not Remittance.objects.exists()
    out, _ = run(str(path), "--practice", practice.name, "--hold-unmatched")
    assert "1 held ($50.00)" in out


@pytest.mark.parametrize("content", [b"not an 835", b"ISA*00*" + b" " * 120], ids=["text", "damaged"])
def test_it_refuses_a_bad_file(practice, tmp_path, content):
    path = tmp_path / "bad.835"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        run(str(path), "--practice", practice.name)
    assert not Remittance.objects.exists()


def test_it_exits_1_with_the_reason_on_stderr(practice, tmp_path):
    path = tmp_path / "unbalanced.835"
    path.write_bytes(build_835([ClaimPaid("CLM-1", D("100.00"), D("80.00"))], trace="T1"))
    # A CommandError is what manage.py prints on stderr and exits 1 with (BaseCommand.run_from_argv);
    # run_from_argv itself closes the database connections, which a test's transaction cannot survive.
    with pytest.raises(CommandError) as refused:
        run(str(path), "--practice", practice.name)
    assert refused.value.returncode == 1
    assert "does not balance" in str(refused.value) and "Claim CLM-1" in str(refused.value)
    assert not Remittance.objects.exists()


def test_it_says_when_there_is_no_file(practice):
    with pytest.raises(CommandError, match="No file at"):
        run("/nonexistent/file.835", "--practice", practice.name)
