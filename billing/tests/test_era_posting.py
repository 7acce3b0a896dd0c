"""Posting an 835: preview, refusals, the whole file in one transaction, reversals, PLB, the queue."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services
from billing.era.demo import ClaimPaid, Line, build_835, seed_demo_remittances
from billing.era.posting import (
    RemittanceRefused,
    clearing_balance,
    held_queue,
    post_held,
    post_remittance,
    preview,
)
from billing.models import (
    Account,
    ExpectedPayment,
    JournalTransaction,
    LedgerEntry,
    Payment,
    Remittance,
    RemittanceClaim,
)
from billing.verify import verify
from billingpulse.tests.factories import PatientFactory, PracticeFactory
from claims.models import Claim
from claims.tests.factories import ClaimFactory, PayerFactory

SAMPLES = Path("/work/shared/samples/era")
D = Decimal
pytestmark = pytest.mark.django_db

needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="the shared 835 samples are not on this machine")


def make_claim(practice, number, charge, *, last="SAMPLE", first="JANE", service_date=date(2025, 1, 5), payer=None):
    """A claim with its charge posted, as the claim import leaves it."""
    patient = PatientFactory(practice=practice, last_name=last.title(), first_name=first.title())
    claim = ClaimFactory(
        practice=practice,
        patient=patient,
        payer=payer or PayerFactory(practice=practice),
        claim_number=number,
        total_charge=D(0),
        service_date_from=service_date,
    )
    services.charge(claim, D(charge), key=f"charge:{number}")
    claim.refresh_from_db()
    return claim


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def ledger(remittance, account) -> Decimal:
    entries = LedgerEntry.objects.filter(transaction__remittance=remittance, account=account)
    return sum(entries.values_list("amount", flat=True), D(0))  # SQLite sums decimals as floats


def claim_payments(remittance) -> Decimal:
    """Σ of what the remittance paid to claims (payments less reversals), from the ledger."""
    entries = LedgerEntry.objects.filter(
        transaction__remittance=remittance, transaction__claim__isnull=False, account=Account.ERA_CLEARING
    )
    return sum(entries.values_list("amount", flat=True), D(0))


def original_for_reversal(practice, claim):
    """The earlier ERA that paid PCN0990 (the synthetic sample reverses it under ICN2412010090)."""
    data = build_835(
        [
            ClaimPaid(
                "PCN0990",
                D("200.00"),
                D("160.00"),
                payer_claim_number="ICN2412010090",
                lines=[Line("G0438", D("200.00"), D("160.00"), [("CO", "45", D("40.00"))])],
            )
        ],
        trace="EFT20241201",
        payment_date=date(2024, 12, 1),
    )
    first = preview(practice, data, file_name="december.835")
    post_remittance(first, actor=None)
    claim.refresh_from_db()
    assert claim.paid_amount == D("160.00")
    return first


@pytest.fixture
def synthetic_claims(practice):
    claims = {
        "PCN1001": make_claim(practice, "PCN1001", "250.00"),
        "PCN1002": make_claim(practice, "PCN1002", "180.00", first="RICHARD"),
        "PCN0990": make_claim(practice, "PCN0990", "200.00", first="JOHN", service_date=date(2024, 11, 20)),
        "PCN1003": make_claim(practice, "PCN1003", "120.00", first="MARY"),
        "PCN1004": make_claim(practice, "PCN1004", "90.00", first="PAT"),
    }
    return claims


# ---------------------------------------------------------------------------- the samples


@needs_samples
def test_it_posts_the_synthetic_sample_with_the_files_totals(practice, owner, synthetic_claims):
    original_for_reversal(practice, synthetic_claims["PCN0990"])
    remittance = preview(practice, sample("synthetic_835_5010_mixed.835"), file_name="mixed.835", actor=owner)
    assert remittance.status == Remittance.Status.PREVIEW
    assert remittance.payment_amount == D("116.25")
    assert list(remittance.claim_payments.values_list("status", flat=True)) == ["matched"] * 6

    summary = post_remittance(remittance, actor=owner)

    remittance.refresh_from_db()
    assert remittance.status == Remittance.Status.POSTED
    assert remittance.posted_by == owner and remittance.posted_at is not None
    assert summary["claims_posted"] == 6 and summary["claims_held"] == 0
    # Σ paid to claims = Σ CLP04 (130 + 0 − 160 + 150 + 70 + 0); PLB 75 − 1.25; the deposit is BPR02.
    assert claim_payments(remittance) == D("190.00")
    assert ledger(remittance, Account.PROVIDER_ADJUSTMENT) == D("73.75")
    assert ledger(remittance, Account.CASH) == D("116.25")
    assert clearing_balance(remittance) == 0
    payment = Payment.objects.get(remittance=remittance)
    assert (payment.amount, payment.method, payment.reference) == (D("116.25"), "eft", "EFT20250117001")

    c = {n: Claim.objects.get(pk=claim.pk) for n, claim in synthetic_claims.items()}
    # Paid claim: 130 paid, CO-45 70 contractual, PR 50 moved to the patient.
    assert (c["PCN1001"].paid_amount, c["PCN1001"].adjustment_amount) == (D("130.00"), D("70.00"))
    assert (c["PCN1001"].patient_responsibility, c["PCN1001"].balance) == (D("50.00"), D("50.00"))
    assert c["PCN1001"].status == Claim.Status.PAID
    # Denied: nothing adjusted, the balance stays owed for the appeal; the claim is denied.
    assert (c["PCN1002"].balance, c["PCN1002"].adjustment_amount, c["PCN1002"].status) == (D("180.00"), 0, "denied")
    # Reversal and correction: the first 160 taken back, 150 paid with 50 contractual.
    assert (c["PCN0990"].paid_amount, c["PCN0990"].adjustment_amount, c["PCN0990"].balance) == (
        D("150.00"),
        D("50.00"),
        D("0.00"),
    )
    # Crossover: the PR amount goes to the secondary payer, not the patient.
    assert c["PCN1003"].patient_responsibility == 0
    assert LedgerEntry.objects.filter(claim=c["PCN1003"], account=Account.SECONDARY_AR).get().amount == D("25.00")
    # Deductible for the whole charge: the patient owes it.
    assert (c["PCN1004"].patient_responsibility, c["PCN1004"].balance) == (D("90.00"), D("90.00"))
    assert verify(practice) == []


@needs_samples
def test_it_pairs_a_reversal_with_the_original_posting(practice, owner, synthetic_claims):
    claim = synthetic_claims["PCN0990"]
    first = original_for_reversal(practice, claim)
    originals = list(JournalTransaction.objects.filter(remittance=first, claim=claim).order_by("pk"))

    remittance = preview(practice, sample("synthetic_835_5010_mixed.835"))
    post_remittance(remittance, actor=owner)

    reversals = JournalTransaction.objects.filter(remittance=remittance, kind=JournalTransaction.Kind.REVERSAL)
    assert sorted(r.reverses_id for r in reversals) == [t.pk for t in originals]
    assert all(r.claim_id == claim.pk and r.source == "era" for r in reversals)
    for original in originals:
        net = LedgerEntry.objects.filter(transaction__in=[original, original.reversed_by])
        assert sum(net.values_list("amount", flat=True)) == 0


@needs_samples
def test_it_posts_the_managed_care_sample_with_claim_and_line_adjustments(practice, owner):
    budd = make_claim(practice, "5554555444", "800.00", last="BUDD", first="WILLIAM", service_date=date(2002, 3, 1))
    settle = make_claim(practice, "8765432112", "1200.00", last="SETTLE", first="SUSAN", service_date=date(2002, 3, 10))
    remittance = preview(practice, sample("lfh_835_5010_managed_care.835"))
    post_remittance(remittance, actor=owner)

    assert claim_payments(remittance) == D("945.00") == ledger(remittance, Account.CASH)
    assert clearing_balance(remittance) == 0
    budd.refresh_from_db()
    settle.refresh_from_db()
    assert (budd.paid_amount, budd.adjustment_amount, budd.patient_responsibility) == (D(450), D(50), D(300))
    assert (settle.paid_amount, settle.adjustment_amount, settle.patient_responsibility) == (D(495), D(105), D(600))
    carcs = set(
        JournalTransaction.objects.filter(claim=settle, kind="adjustment").values_list("carc_group", "carc_code")
    )
    assert carcs == {("CO", "A2"), ("CO", "45")}


@needs_samples
def test_it_posts_the_medicare_sample_with_its_negative_plb(practice, owner):
    make_claim(practice, "666123", "211366.97", last="JONES", first="SAM", service_date=date(2002, 8, 16))
    make_claim(practice, "777777", "15000.00", last="BORDER", first="LIZ", service_date=date(2002, 5, 12))
    remittance = preview(practice, sample("lfh_835_5010_medicare_part_a_plb.835"))
    post_remittance(remittance, actor=owner)

    assert claim_payments(remittance) == D("149998.73")
    assert ledger(remittance, Account.CASH) == D("150000.00")
    # Interest-like CV −1.27 raises the payment: a credit to provider-level adjustments.
    assert ledger(remittance, Account.PROVIDER_ADJUSTMENT) == D("-1.27")
    assert clearing_balance(remittance) == 0


@needs_samples
def test_it_records_a_denial_only_remittance_without_money(practice, owner):
    claim = make_claim(practice, "2005555A", "915.39", last="BACH", first="JOHANN", service_date=date(2003, 11, 29))
    remittance = preview(practice, sample("pyx12_835_5010_denial_multi_svc.txt"))
    summary = post_remittance(remittance, actor=owner)

    assert summary["denied"] == 1 and summary["transactions"] == 0
    assert not Payment.objects.filter(remittance=remittance).exists()
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DENIED and claim.balance == D("915.39")
    assert "CO-16" in claim.events.filter(to_status="denied").get().message


# ---------------------------------------------------------------------------- refusals


@needs_samples
def test_it_refuses_the_unbalanced_4010_sample_naming_the_rule(practice):
    with pytest.raises(RemittanceRefused) as refused:
        preview(practice, sample("pyx12_835_4010_reversal_plb.txt"))
    assert "BPR02 = Σ CLP04 − Σ PLB" in str(refused.value)
    assert "5950.21" in str(refused.value)
    assert not Remittance.objects.exists()


def test_it_refuses_a_claim_that_does_not_balance_naming_it(practice):
    data = build_835([ClaimPaid("CLM-9", D("100.00"), D("80.00"), adjustments=[("CO", "45", D("10.00"))])], trace="T1")
    with pytest.raises(RemittanceRefused) as refused:
        preview(practice, data)
    assert "CLP03 − all CAS = CLP04" in str(refused.value) and "Claim CLM-9" in str(refused.value)
    assert not Remittance.objects.exists() and not JournalTransaction.objects.filter(source="era").exists()


def test_it_refuses_a_service_line_that_does_not_balance(practice):
    line = Line("G0439", D("100.00"), D("70.00"), [("CO", "45", D("20.00"))])
    data = build_835([ClaimPaid("CLM-9", D("100.00"), D("70.00"), lines=[line])], trace="T1")
    with pytest.raises(RemittanceRefused) as refused:
        preview(practice, data)
    assert any("SVC02 − line CAS = SVC03" in p and "line 1 (G0439)" in p for p in refused.value.problems)


@needs_samples
@pytest.mark.parametrize(
    ("data", "words"),
    [
        (sample("synthetic_835_5010_mixed.835")[:900], "incomplete"),
        (sample("lfh_277_5010_claim_level_status.277"), "not a remittance advice"),
        (b"Claim #,Patient\n1,Jane\n", "not an X12 file"),
        (b"", "not an X12 file"),
    ],
    ids=["truncated", "277", "csv", "empty"],
)
def test_it_refuses_a_file_that_is_not_a_complete_835(practice, data, words):
    with pytest.raises(RemittanceRefused) as refused:
        preview(practice, data)
    assert words in str(refused.value)
    assert not Remittance.objects.exists() and not JournalTransaction.objects.filter(source="era").exists()


def test_it_refuses_the_same_remittance_twice_naming_the_first(practice, owner):
    claim = make_claim(practice, "CLM-1", "100.00")
    data = build_835([ClaimPaid("CLM-1", D("100.00"), D("80.00"), adjustments=[("CO", "45", D("20.00"))])], trace="T1")
    first = preview(practice, data, actor=owner)
    post_remittance(first, actor=owner)

    with pytest.raises(RemittanceRefused) as refused:
        preview(practice, data + b"\n")  # the same payment, other bytes
    message = str(refused.value)
    assert f"remittance #{first.pk}" in message and owner.display_name in message and "already posted" in message
    first.refresh_from_db()
    local = timezone.localtime(first.posted_at, ZoneInfo(practice.time_zone))
    assert local.strftime("%m/%d/%Y %I:%M %p") in message  # the practice's clock, not UTC
    assert Remittance.objects.count() == 1
    claim.refresh_from_db()
    assert claim.paid_amount == D("80.00")


def test_it_refuses_posting_a_second_preview_of_a_posted_remittance(practice, owner):
    make_claim(practice, "CLM-1", "100.00")
    data = build_835([ClaimPaid("CLM-1", D("100.00"), D("100.00"))], trace="T1")
    first = preview(practice, data)
    second = preview(practice, data + b"\n")
    post_remittance(first, actor=owner)
    count = JournalTransaction.objects.count()

    with pytest.raises(RemittanceRefused, match=f"remittance #{first.pk}"):
        post_remittance(second, actor=owner)
    assert JournalTransaction.objects.count() == count
    second.refresh_from_db()
    assert second.status == Remittance.Status.PREVIEW


def test_it_replays_a_retried_post(practice, owner):
    make_claim(practice, "CLM-1", "100.00")
    remittance = preview(practice, build_835([ClaimPaid("CLM-1", D("100.00"), D("100.00"))], trace="T1"))
    summary = post_remittance(remittance, actor=owner)
    count = JournalTransaction.objects.count()
    assert post_remittance(remittance, actor=owner) == summary
    assert JournalTransaction.objects.count() == count


def test_it_returns_the_waiting_preview_for_the_same_file(practice):
    data = build_835([ClaimPaid("CLM-1", D("100.00"), D("100.00"))], trace="T1")
    assert preview(practice, data).pk == preview(practice, data).pk


# ---------------------------------------------------------------------------- unmatched queue


def test_it_refuses_to_post_with_unmatched_claims_unless_told_to_hold(practice, owner):
    make_claim(practice, "CLM-1", "100.00")
    data = build_835(
        [
            ClaimPaid("CLM-1", D("100.00"), D("100.00")),
            ClaimPaid("NOPE-7", D("50.00"), D("40.00"), adjustments=[("CO", "45", D("10.00"))]),
        ],
        trace="T1",
    )
    remittance = preview(practice, data)
    with pytest.raises(RemittanceRefused, match="1 claim payment cannot be posted"):
        post_remittance(remittance, actor=owner)
    assert not JournalTransaction.objects.filter(remittance=remittance).exists()

    summary = post_remittance(remittance, actor=owner, hold_unmatched=True)
    assert (summary["claims_posted"], summary["claims_held"], summary["held_amount"]) == (1, 1, "40.00")
    assert clearing_balance(remittance) == 0
    assert ledger(remittance, Account.ERA_HELD) == D("-40.00")
    assert [row.claim_number for row in held_queue(practice)] == ["NOPE-7"]


def test_it_posts_a_held_payment_to_the_claim_the_biller_chooses(practice, owner):
    data = build_835([ClaimPaid("NOPE-7", D("50.00"), D("40.00"), adjustments=[("CO", "45", D("10.00"))])], trace="T1")
    remittance = preview(practice, data)
    post_remittance(remittance, actor=owner, hold_unmatched=True)
    claim = make_claim(practice, "CLM-7", "50.00")
    expected = services.expect_payment(claim, amount=D("40.00"))

    row = held_queue(practice).get()
    post_held(row, claim, actor=owner)

    claim.refresh_from_db()
    assert (claim.paid_amount, claim.adjustment_amount, claim.balance) == (D("40.00"), D("10.00"), D("0.00"))
    assert ledger(remittance, Account.ERA_HELD) == 0 and clearing_balance(remittance) == 0
    assert not held_queue(practice).exists()
    row.refresh_from_db()
    assert (row.status, row.claim) == (RemittanceClaim.Status.POSTED, claim)
    expected.refresh_from_db()
    assert expected.status == ExpectedPayment.Status.RECEIVED
    assert verify(practice) == []
    with pytest.raises(RemittanceRefused, match="already posted"):
        post_held(row, claim, actor=owner)


def test_it_holds_a_reversal_with_no_original(practice, owner):
    claim = make_claim(practice, "CLM-1", "100.00")
    data = build_835(
        [ClaimPaid("CLM-1", D("-100.00"), D("-80.00"), status="22", adjustments=[("CO", "45", D("-20.00"))])],
        trace="T1",
        amount=D("-80.00"),
    )
    remittance = preview(practice, data)
    row = remittance.claim_payments.get()
    assert "No earlier ERA posting" in row.detail["hold"]
    post_remittance(remittance, actor=owner, hold_unmatched=True)
    assert clearing_balance(remittance) == 0
    claim.refresh_from_db()
    assert claim.paid_amount == 0
    assert held_queue(practice).get().pk == row.pk


# ---------------------------------------------------------------------------- expected payments


def test_it_matches_expected_payments_and_flags_a_different_amount(practice, owner):
    same = make_claim(practice, "CLM-1", "100.00")
    other = make_claim(practice, "CLM-2", "100.00", first="JOHN")
    said_same = services.expect_payment(same, amount=D("80.00"), reference="T1")
    said_other = services.expect_payment(other, amount=D("90.00"), reference="T1")
    data = build_835(
        [
            ClaimPaid("CLM-1", D("100.00"), D("80.00"), adjustments=[("CO", "45", D("20.00"))]),
            ClaimPaid("CLM-2", D("100.00"), D("70.00"), adjustments=[("CO", "45", D("30.00"))]),
        ],
        trace="T1",
    )
    post_remittance(preview(practice, data), actor=owner)
    said_same.refresh_from_db()
    said_other.refresh_from_db()
    assert said_same.status == ExpectedPayment.Status.RECEIVED
    assert (said_other.status, said_other.received_amount) == (ExpectedPayment.Status.DIFFERENT, D("70.00"))


# ---------------------------------------------------------------------------- tenancy


def test_it_never_matches_another_practices_claim(practice, owner):
    other = PracticeFactory(name="Bravo")
    theirs = make_claim(other, "CLM-1", "100.00")
    data = build_835(
        [
            ClaimPaid(
                "CLM-1", D("100.00"), D("100.00"), last_name="SAMPLE", first_name="JANE", service_date=date(2025, 1, 5)
            )
        ],
        trace="T1",
    )
    remittance = preview(practice, data)
    assert remittance.claim_payments.get().status == RemittanceClaim.Status.UNMATCHED
    post_remittance(remittance, actor=owner, hold_unmatched=True)
    theirs.refresh_from_db()
    assert theirs.paid_amount == 0
    with pytest.raises(RemittanceRefused, match="No such claim"):
        post_held(held_queue(practice).get(), theirs, actor=owner)


# ---------------------------------------------------------------------------- scale and demo


@needs_samples
def test_it_posts_the_generated_5000_claim_file(practice, owner, tmp_path):
    out = tmp_path / "big.835"
    subprocess.run(
        [sys.executable, str(SAMPLES / "make_big_835.py"), "5000", str(out)], check=True, capture_output=True
    )
    data = out.read_bytes()
    payer = PayerFactory(practice=practice)
    patient = PatientFactory(practice=practice)
    templates = {"PCN1001": "250.00", "PCN1002": "180.00", "PCN0990": "200.00", "PCN1003": "120.00", "PCN1004": "90.00"}
    numbers = [f"{base}-{k:06d}" for k in range(5000) for base in [list(templates)[[0, 1, 2, 2, 3, 4][k % 6]]]]
    claims = [
        Claim(
            practice=practice,
            patient=patient,
            payer=payer,
            claim_number=n,
            service_date_from=date(2025, 1, 5),
            total_charge=0,
        )
        for n in numbers
    ]
    Claim.objects.bulk_create(claims, batch_size=500)
    remittance = preview(practice, data, check_structure=False)
    assert remittance.claim_payments.filter(status="matched").count() == 5000

    with CaptureQueriesContext(connection) as queries:
        summary = post_remittance(remittance, actor=owner, hold_unmatched=True)
    # Batched: far fewer queries than claims.
    assert len(queries) < 1000
    # 833 reversals have no original here, so they are held; everything else posts.
    assert summary["claims_held"] == 833 and summary["claims_posted"] == 4167
    assert claim_payments(remittance) + ledger(remittance, Account.ERA_HELD) * -1 == D(summary["paid_to_claims"]) + D(
        summary["held_amount"]
    )
    total_clp04 = sum(r.paid for r in remittance.claim_payments.all())
    assert claim_payments(remittance) - ledger(remittance, Account.ERA_HELD) == total_clp04
    assert clearing_balance(remittance) == 0
    assert verify(practice) == []


def test_it_seeds_one_posted_remittance_and_one_in_preview_once(practice):
    for n in range(8):
        make_claim(practice, f"DEMO-{n}", "200.00", first=f"P{n}")
    first = seed_demo_remittances(practice)
    again = seed_demo_remittances(practice)
    assert [r.status for r in first] == ["posted", "preview"]
    assert [r.pk for r in again] == [r.pk for r in first]
    assert clearing_balance(first[0]) == 0
    assert Remittance.objects.filter(practice=practice).count() == 2


# ---------------------------------------------------------------------------- concurrency (PostgreSQL)


def _post_or_refusal(remittance, actor):
    def run():
        try:
            return post_remittance(Remittance.objects.get(pk=remittance.pk), actor=actor)
        except RemittanceRefused as refused:
            return str(refused)

    return run


@pytest.mark.parametrize("copies", ["one preview", "two previews"])
@pytest.mark.skipif(connection.vendor != "postgresql", reason="Concurrent writers need PostgreSQL.")
@pytest.mark.django_db(transaction=True)
def test_it_posts_the_same_remittance_once_when_posted_twice_at_once(practice, owner, copies):
    from billingpulse.tests.concurrency import at_once

    claim = make_claim(practice, "CLM-1", "100.00")
    data = build_835([ClaimPaid("CLM-1", D("100.00"), D("80.00"), adjustments=[("CO", "45", D("20.00"))])], trace="T1")
    first = preview(practice, data)
    second = first if copies == "one preview" else preview(practice, data + b"\n")

    results = at_once([_post_or_refusal(first, owner), _post_or_refusal(second, owner)])

    posted = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, str)]
    if copies == "one preview":
        assert len(posted) == 2 and posted[0] == posted[1]  # the second waits, then replays
    else:
        assert len(posted) == 1 and len(refused) == 1 and "already posted" in refused[0]
    assert Remittance.objects.filter(status=Remittance.Status.POSTED).count() == 1
    claim.refresh_from_db()
    assert claim.paid_amount == D("80.00")
    assert JournalTransaction.objects.filter(source="era", kind="payment", claim=claim).count() == 1
    assert verify(practice) == []
