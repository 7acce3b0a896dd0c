from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.era import matching, read_835
from billing.era.matching import ClaimMatch, MatchedBy, MatchStatus, match_claims
from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "era"
DOS = date(2026, 3, 4)


@dataclass
class Clp:
    """One claim payment to write into a test 835."""

    number: str
    last: str = "SAMPLE"
    first: str = "JANE"
    service_date: date | None = DOS
    member_id: str = ""
    subscriber_id: str = ""
    payer_icn: str = "ICN0001"
    claim_level_date: bool = False  # DTM*232 on the claim instead of DTM*472 on its line
    later_line: date | None = None  # a second, unpaid service line on this date

    def segments(self) -> list[str]:
        found = [f"CLP*{self.number}*1*100.00*80.00*20.00*12*{self.payer_icn}*11*1"]
        if self.last:
            member = f"****MI*{self.member_id}" if self.member_id else ""
            found.append(f"NM1*QC*1*{self.last}*{self.first}{member}")
        if self.subscriber_id:
            found.append(f"NM1*IL*1*SUBSCRIBER*SAM****MI*{self.subscriber_id}")
        day = f"{self.service_date:%Y%m%d}" if self.service_date else ""
        if day and self.claim_level_date:
            found.append(f"DTM*232*{day}")
        found.append("SVC*HC:99213*100.00*80.00**1")
        if day and not self.claim_level_date:
            found.append(f"DTM*472*{day}")
        found.append("CAS*CO*45*20.00")
        if self.later_line:
            found += ["SVC*HC:99214*0*0**1", f"DTM*472*{self.later_line:%Y%m%d}"]
        return found


def _835(*payments: list[Clp]) -> bytes:
    """A complete, balanced 835 with one ST per list of claim payments."""
    segments = [
        "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260310*1200*^*00501*000000001*0*T*:",
        "GS*HP*PAYER*CLINIC*20260310*1200*1*X*005010X221A1",
    ]
    for n, clps in enumerate(payments, 1):
        body = [
            f"BPR*I*{Decimal('80.00') * len(clps):.2f}*C*ACH*CCP*01*999999992*DA*1000001*1999999999"
            "**01*999999993*DA*2000002*20260310",
            f"TRN*1*EFT{n:04d}*1999999999",
            "N1*PR*EXAMPLE HEALTH PLAN",
            "N1*PE*EXAMPLE CLINIC*XX*1234567893",
            "LX*1",
        ]
        for clp in clps:
            body += clp.segments()
        segments += [f"ST*835*{n:04d}", *body, f"SE*{len(body) + 2}*{n:04d}"]
    segments += [f"GE*{len(payments)}*1", "IEA*1*000000001"]
    return ("~\n".join(segments) + "~\n").encode()


def _match(practice, *clps: Clp) -> list[ClaimMatch]:
    return match_claims(practice, read_835(_835(list(clps))))


def _claim(practice, number: str, *, last: str = "Sample", first: str = "Jane", member_id: str = "", **fields):
    patient = fields.pop("patient", None) or PatientFactory(practice=practice, last_name=last, first_name=first)
    if member_id:
        fields["policy"] = InsurancePolicyFactory(practice=practice, patient=patient, member_id=member_id)
    fields.setdefault("service_date_from", DOS)
    return ClaimFactory(practice=practice, patient=patient, claim_number=number, **fields)


def test_it_matches_by_claim_number_ignoring_case(practice) -> None:
    claim = _claim(practice, "clm-100")
    (match,) = _match(practice, Clp("CLM-100"))
    assert (match.status, match.claim, match.matched_by) == (MatchStatus.MATCHED, claim, MatchedBy.CLAIM_NUMBER)
    assert match.reason == "Claim number CLM-100"
    assert match.candidates == () and match.warnings == ()
    assert match.is_matched
    assert match.clp.claim_number == "CLM-100"
    assert match.payment is not None and match.payment.trace == "EFT0001"


def test_it_prefers_the_exact_spelling_among_numbers_differing_in_case(practice) -> None:
    lower, upper = _claim(practice, "abc-1"), _claim(practice, "ABC-1")
    exact, other_case = _match(practice, Clp("abc-1"), Clp("Abc-1"))
    assert (exact.status, exact.claim) == (MatchStatus.MATCHED, lower)
    assert other_case.status == MatchStatus.AMBIGUOUS
    assert other_case.claim is None
    assert set(other_case.candidates) == {lower, upper}
    assert other_case.reason == "2 claims numbered Abc-1 (differing only in case)"


def test_it_matches_the_payers_claim_number_when_it_is_ours(practice) -> None:
    claim = _claim(practice, "ICN77")
    (match,) = _match(practice, Clp("UNKNOWN-1", payer_icn="icn77"))
    assert (match.status, match.claim, match.matched_by) == (MatchStatus.MATCHED, claim, MatchedBy.PAYER_CLAIM_NUMBER)
    assert match.reason == "The payer's claim number icn77"


def test_it_warns_when_a_number_match_has_another_patient_or_date(practice) -> None:
    _claim(practice, "CLM-1", last="Other", first="Person", service_date_from=date(2026, 3, 1))
    _claim(practice, "CLM-2")
    (other, same) = _match(practice, Clp("CLM-1"), Clp("CLM-2"))
    assert other.status == MatchStatus.MATCHED
    assert other.warnings == (
        "The remittance names the patient SAMPLE, JANE; this claim is for Person Other.",
        "The remittance's date of service is 2026-03-04; this claim's is 2026-03-01.",
    )
    assert same.warnings == ()


def test_it_falls_back_to_patient_and_date_of_service(practice) -> None:
    claim = _claim(practice, "OURS-1", last="Sample", first="Jane")
    _claim(practice, "OURS-2", last="Sample", first="Richard")
    _claim(practice, "OURS-3", last="Sample", first="Jane", service_date_from=date(2026, 3, 5))
    (match,) = _match(practice, Clp("THEIRS-1", last="sample", first=" jane "))
    assert (match.status, match.claim, match.matched_by) == (MatchStatus.MATCHED, claim, MatchedBy.PATIENT_AND_DATE)
    assert match.reason == "No claim numbered THEIRS-1; matched by patient sample, jane on 2026-03-04"


def test_it_uses_the_claim_level_service_date(practice) -> None:
    claim = _claim(practice, "OURS-1")
    (match,) = _match(practice, Clp("THEIRS-1", claim_level_date=True))
    assert (match.status, match.claim) == (MatchStatus.MATCHED, claim)


def test_it_uses_the_earliest_service_line_date(practice) -> None:
    claim = _claim(practice, "OURS-1")
    (match,) = _match(practice, Clp("THEIRS-1", service_date=date(2026, 3, 9), later_line=DOS))
    assert (match.status, match.claim) == (MatchStatus.MATCHED, claim)


def test_it_reports_several_claims_for_the_patient_and_date_as_ambiguous(practice) -> None:
    patient = PatientFactory(practice=practice, last_name="Sample", first_name="Jane")
    first, second = _claim(practice, "OURS-2", patient=patient), _claim(practice, "OURS-1", patient=patient)
    (match,) = _match(practice, Clp("THEIRS-1"))
    assert (match.status, match.claim) == (MatchStatus.AMBIGUOUS, None)
    assert match.candidates == (second, first)
    assert match.reason == "2 claims for this patient on 2026-03-04"


def test_it_narrows_by_member_id(practice) -> None:
    patient = PatientFactory(practice=practice, last_name="Sample", first_name="Jane")
    agreeing = _claim(practice, "OURS-1", patient=patient, member_id="W123")
    _claim(practice, "OURS-2", patient=patient, member_id="W999")
    _claim(practice, "OURS-3", patient=patient)  # no policy: says nothing about the member ID
    (by_patient_id, by_subscriber_id) = _match(
        practice, Clp("THEIRS-1", member_id="w123"), Clp("THEIRS-2", member_id="DEP-1", subscriber_id="W123")
    )
    assert (by_patient_id.status, by_patient_id.claim) == (MatchStatus.MATCHED, agreeing)
    assert (
        by_patient_id.reason
        == "No claim numbered THEIRS-1; matched by patient SAMPLE, JANE and member ID on 2026-03-04"
    )
    assert (by_subscriber_id.status, by_subscriber_id.claim) == (MatchStatus.MATCHED, agreeing)


def test_it_does_not_match_a_claim_with_another_member_id(practice) -> None:
    _claim(practice, "OURS-1", member_id="W999")
    (match,) = _match(practice, Clp("THEIRS-1", member_id="W123"))
    assert (match.status, match.claim) == (MatchStatus.UNMATCHED, None)
    assert (
        match.reason == "No claim numbered THEIRS-1; 1 claim for SAMPLE, JANE on 2026-03-04, but with another member ID"
    )


def test_it_matches_by_name_when_the_remittance_has_no_member_id(practice) -> None:
    claim = _claim(practice, "OURS-1", member_id="W999")
    (match,) = _match(practice, Clp("THEIRS-1"))
    assert (match.status, match.claim) == (MatchStatus.MATCHED, claim)


def test_it_reports_what_it_did_not_find(practice) -> None:
    _claim(practice, "OURS-1")
    nobody, no_date, no_name = _match(
        practice, Clp("THEIRS-1", last="Nobody"), Clp("THEIRS-2", service_date=None), Clp("THEIRS-3", last="")
    )
    assert all(m.status == MatchStatus.UNMATCHED and m.claim is None for m in (nobody, no_date, no_name))
    assert nobody.reason == "No claim numbered THEIRS-1, and no claim for Nobody, JANE on 2026-03-04"
    assert no_date.reason == "No claim numbered THEIRS-2, and the remittance gives no date of service"
    assert no_name.reason == "No claim numbered THEIRS-3, and the remittance gives no patient name"


def test_it_never_matches_another_practices_claim(practice, other_practice) -> None:
    theirs = _claim(other_practice, "CLM-1")
    _claim(other_practice, "CLM-2", patient=theirs.patient)
    _claim(other_practice, "ICN-9", patient=theirs.patient)
    clps = (Clp("CLM-1"), Clp("THEIRS-1"), Clp("THEIRS-2", payer_icn="ICN-9"))
    assert [m.status for m in _match(practice, *clps)] == [MatchStatus.UNMATCHED] * 3
    # The same file against the practice that owns the claims: the claim number matches.
    assert _match(other_practice, *clps)[0].claim == theirs


def test_it_keeps_file_order_across_payments(practice) -> None:
    a, b = _claim(practice, "A-1"), _claim(practice, "B-1", last="Other", first="Person")
    remittance = read_835(
        _835([Clp("THEIRS-1", last="Other", first="Person"), Clp("A-1")], [Clp("NONE", last="Nobody")])
    )
    matches = match_claims(practice.pk, remittance)
    assert [(m.clp.claim_number, m.claim) for m in matches] == [("THEIRS-1", b), ("A-1", a), ("NONE", None)]
    assert [m.payment.control_number for m in matches] == ["0001", "0001", "0002"]


def test_it_matches_a_reversal_and_its_correction_to_one_claim(practice) -> None:
    if not SAMPLES.is_dir():
        pytest.skip("sample ERA folder is not available")
    claim = _claim(practice, "pcn0990", last="Sample", first="John", service_date_from=date(2024, 11, 20))
    jane = _claim(practice, "OURS-7", service_date_from=date(2025, 1, 5))
    matches = match_claims(practice, read_835((SAMPLES / "synthetic_835_5010_mixed.835").read_bytes()))
    assert [(m.clp.claim_number, m.clp.status, m.claim) for m in matches if m.claim] == [
        ("PCN1001", "1", jane),
        ("PCN0990", "22", claim),
        ("PCN0990", "1", claim),
    ]


def _mixed_clps(practice, numbers: range) -> list[Clp]:
    """Claims found every way, in turn: by number, by patient and date, ambiguous, and not at all."""
    clps = []
    for n in numbers:
        kind = n % 4
        if kind == 0:
            _claim(practice, f"NUM-{n}", last=f"Num{n}")
            clps.append(Clp(f"num-{n}", last=f"NUM{n}"))
        elif kind == 1:
            _claim(practice, f"OURS-{n}", last=f"Pat{n}", member_id=f"M{n}")
            clps.append(Clp(f"THEIRS-{n}", last=f"PAT{n}", member_id=f"M{n}"))
        elif kind == 2:
            patient = PatientFactory(practice=practice, last_name=f"Twin{n}", first_name="Jane")
            _claim(practice, f"TWIN-{n}-A", patient=patient)
            _claim(practice, f"TWIN-{n}-B", patient=patient)
            clps.append(Clp(f"THEIRS-{n}", last=f"TWIN{n}"))
        else:
            clps.append(Clp(f"THEIRS-{n}", last=f"Gone{n}"))
    return clps


def _statuses(matches: list[ClaimMatch]) -> list[MatchStatus]:
    return [m.status for m in matches]


EXPECTED_BY_KIND = [MatchStatus.MATCHED, MatchStatus.MATCHED, MatchStatus.AMBIGUOUS, MatchStatus.UNMATCHED]


def test_it_takes_the_same_number_of_queries_for_more_claims(practice) -> None:
    counts = []
    for numbers in (range(4), range(4, 204)):
        remittance = read_835(_835(_mixed_clps(practice, numbers)))
        with CaptureQueriesContext(connection) as queries:
            matches = match_claims(practice, remittance)
        counts.append(len(queries))
        assert _statuses(matches) == [EXPECTED_BY_KIND[n % 4] for n in numbers]
    # One query for the claim numbers and one for the patients, whatever the file's size.
    assert counts == [2, 2]


def test_it_matches_in_chunks(practice, monkeypatch, django_assert_max_num_queries) -> None:
    monkeypatch.setattr(matching, "_MAX_CHUNK", 6)
    remittance = read_835(_835(_mixed_clps(practice, range(40))))
    # 41 claim numbers (40 CLP01 and one CLP07) in 7 queries, 30 patient look-ups in 5.
    with django_assert_max_num_queries(12):
        matches = match_claims(practice, remittance)
    assert _statuses(matches) == [EXPECTED_BY_KIND[n % 4] for n in range(40)]
    assert matches[0].claim.claim_number == "NUM-0"
    assert matches[1].claim.claim_number == "OURS-1"
