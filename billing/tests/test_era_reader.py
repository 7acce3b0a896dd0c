from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billing.era import ERAError, balance_problems, read_835

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "era"
SYNTHETIC = "synthetic_835_5010_mixed.835"


def _sample_paths() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted([*SAMPLES.glob("*.835"), *SAMPLES.glob("*.txt")])


def _text(name: str) -> str:
    if not SAMPLES.is_dir():
        pytest.skip("sample ERA folder is not available")
    return (SAMPLES / name).read_text()


def _with_segments_before(text: str, tag: str, extra: str) -> str:
    """Insert segments before the first `tag` segment and fix SE01 accordingly."""
    head, tail = text.split(f"{tag}*", 1)
    added = extra.count("~")
    se_count = int(text.split("SE*", 1)[1].split("*", 1)[0])
    text = f"{head}{extra}{tag}*{tail}"
    return text.replace(f"SE*{se_count}*", f"SE*{se_count + added}*")


@pytest.mark.parametrize("path", _sample_paths(), ids=lambda p: p.name)
def test_it_reads_every_sample(path: Path) -> None:
    remittance = read_835(path.read_bytes())
    assert len(remittance.payments) == 1
    assert remittance.payments[0].claims


def test_it_reads_the_synthetic_totals() -> None:
    (payment,) = read_835(_text(SYNTHETIC)).payments
    assert payment.amount == Decimal("116.25")
    assert payment.handling == "I"
    assert payment.payment_date == date(2025, 1, 17)
    assert (payment.trace, payment.payer_id) == ("EFT20250117001", "1999999999")
    assert payment.payer_name == "EXAMPLE HEALTH PLAN"
    assert payment.payee.name == "EXAMPLE FAMILY CLINIC"
    assert payment.payee.npi == "1234567893"
    assert payment.payee.refs == (("TJ", "999999999"),)
    assert [c.claim_number for c in payment.claims] == [
        "PCN1001",
        "PCN1002",
        "PCN0990",
        "PCN0990",
        "PCN1003",
        "PCN1004",
    ]
    assert [c.status for c in payment.claims] == ["1", "4", "22", "1", "19", "1"]
    assert [(p.code, p.reference, p.amount) for p in payment.provider_adjustments] == [
        ("WO", "ICN2411010077", Decimal("75.00")),
        ("L6", "", Decimal("-1.25")),
    ]
    first = payment.claims[0]
    assert (first.charge, first.paid, first.patient_responsibility) == (Decimal(250), Decimal(130), Decimal(50))
    assert first.payer_icn == "ICN2501150001"
    assert first.patient_name == "SAMPLE, JANE A"
    line = first.lines[0]
    assert (line.qualifier, line.code, line.charge, line.paid, line.units) == (
        "HC",
        "G0439",
        Decimal("150.00"),
        Decimal("90.00"),
        Decimal(1),
    )
    assert line.service_date == date(2025, 1, 5)
    assert [(a.group, a.reason, a.amount) for a in line.adjustments] == [
        ("CO", "45", Decimal("40.00")),
        ("PR", "2", Decimal("20.00")),
    ]
    only_claim_level = payment.claims[5]
    assert only_claim_level.lines == ()
    assert [(a.group, a.reason, a.amount) for a in only_claim_level.adjustments] == [("PR", "1", Decimal("90.00"))]


def test_it_keeps_reversal_signs() -> None:
    reversal = read_835(_text(SYNTHETIC)).payments[0].claims[2]
    assert (reversal.status, reversal.charge, reversal.paid) == ("22", Decimal("-200.00"), Decimal("-160.00"))
    assert reversal.lines[0].adjustments[0].amount == Decimal("-40.00")


def test_it_reads_the_4010_reversal_and_reports_its_imbalance() -> None:
    (payment,) = read_835(_text("pyx12_835_4010_reversal_plb.txt")).payments
    assert payment.amount == Decimal("5950.21")
    assert [c.status for c in payment.claims] == ["22", "1", "22"]
    assert payment.claims[0].lines[0].adjustments[0].group == "CR"
    assert payment.claims[2].lines[0].modifiers == ("TG",)
    assert [p.amount for p in payment.provider_adjustments] == [Decimal("-1008.1"), Decimal("24.21"), Decimal("5.95")]
    (problem,) = balance_problems(payment)
    assert "5950.21" in problem
    assert "467.69" in problem


@pytest.mark.parametrize(
    ("name", "amount", "claims"),
    [
        (SYNTHETIC, "116.25", 6),
        ("pyx12_835_5010_denial_multi_svc.txt", "0", 1),
        ("lfh_835_5010_medicare_part_a_plb.835", "150000.00", 2),
        ("lfh_835_5010_managed_care.835", "945.00", 2),
    ],
)
def test_it_finds_the_balanced_samples_balanced(name: str, amount: str, claims: int) -> None:
    (payment,) = read_835(_text(name)).payments
    assert payment.amount == Decimal(amount)
    assert len(payment.claims) == claims
    assert balance_problems(payment) == []


def test_it_reads_the_medicare_plb_and_denial_lines() -> None:
    (medicare,) = read_835(_text("lfh_835_5010_medicare_part_a_plb.835")).payments
    assert [(p.code, p.reference, p.amount) for p in medicare.provider_adjustments] == [("CV", "CP", Decimal("-1.27"))]
    (denial,) = read_835(_text("pyx12_835_5010_denial_multi_svc.txt")).payments
    assert denial.handling == "H"
    assert [line.charge for line in denial.claims[0].lines] == [Decimal("500.04"), Decimal("127.8"), Decimal("287.55")]


def test_it_warns_about_an_invalid_payment_date() -> None:
    remittance = read_835(_text("lfh_835_5010_managed_care.835"))
    assert remittance.payments[0].payment_date is None
    assert any("20002316" in w for w in remittance.warnings)


def test_it_names_the_claim_of_an_unbalanced_line() -> None:
    text = _text(SYNTHETIC).replace("SVC*HC:G0439*150.00*90.00", "SVC*HC:G0439*150.00*95.00")
    problems = balance_problems(read_835(text).payments[0])
    assert problems
    assert all("PCN1001" in p or "payment amount" in p for p in problems)
    assert any("line 1 (G0439)" in p for p in problems)


def test_it_reads_modifiers_original_code_and_cas_triplets() -> None:
    text = _text(SYNTHETIC).replace(
        "SVC*HC:G0439*150.00*90.00**1~", "SVC*HC:G0439:25:59:GT:XS*150.00*90.00**2*HC:G0438~"
    )
    text = text.replace("CAS*CO*45*40.00~", "CAS*CO*45*30.00*1*253*10.00~")
    line = read_835(text).payments[0].claims[0].lines[0]
    assert (line.code, line.modifiers, line.units, line.original_code) == (
        "G0439",
        ("25", "59", "GT", "XS"),
        2,
        "G0438",
    )
    assert [(a.group, a.reason, a.amount, a.quantity) for a in line.adjustments] == [
        ("CO", "45", Decimal("30.00"), Decimal(1)),
        ("CO", "253", Decimal("10.00"), None),
        ("PR", "2", Decimal("20.00"), None),
    ]


def test_it_tolerates_a_bom_crlf_and_whitespace() -> None:
    text = _text(SYNTHETIC)
    data = b"\xef\xbb\xbf  \r\n" + text.replace("~\n", "~\r\n").encode() + b"\r\n  \n"
    assert read_835(data).payments[0].amount == Decimal("116.25")


def test_it_falls_back_to_latin_1() -> None:
    data = _text(SYNTHETIC).replace("SAMPLE*JANE", "SAMPLE*JOS\xc9").encode("latin-1")
    assert read_835(data).payments[0].claims[0].patient_name == "SAMPLE, JOS\xc9 A"


def test_it_reads_other_delimiters_on_one_line() -> None:
    text = _text(SYNTHETIC).replace("\n", "").replace("*", "|").replace(":", ">")
    (payment,) = read_835(text).payments
    assert payment.amount == Decimal("116.25")
    assert payment.claims[0].lines[0].code == "G0439"
    assert payment.provider_adjustments[0].reference == "ICN2411010077"
    assert balance_problems(payment) == []


def test_it_reads_two_plb_segments() -> None:
    text = _with_segments_before(_text(SYNTHETIC), "SE", "PLB*1234567893*20251231*CS:ADJ7*10.00*FB*5.00~\n")
    text = text.replace("BPR*I*116.25*", "BPR*I*101.25*")
    (payment,) = read_835(text).payments
    assert [p.code for p in payment.provider_adjustments] == ["WO", "L6", "CS", "FB"]
    assert balance_problems(payment) == []


def test_it_reads_two_payments_in_one_group() -> None:
    text = _text(SYNTHETIC)
    start, end = text.index("ST*835*"), text.index("GE*")
    second = text[start:end].replace("*0001~", "*0002~").replace("EFT20250117001", "EFT20250117002")
    text = text[:end] + second + text[end:].replace("GE*1*", "GE*2*")
    payments = read_835(text).payments
    assert [p.trace for p in payments] == ["EFT20250117001", "EFT20250117002"]
    assert [p.control_number for p in payments] == ["0001", "0002"]


def test_it_reads_two_groups() -> None:
    text = _text(SYNTHETIC)
    start, end = text.index("GS*"), text.index("IEA*")
    text = (
        text[:end]
        + text[start:end].replace("*1200*101*", "*1200*102*").replace("GE*1*101", "GE*1*102")
        + text[end:].replace("IEA*1*", "IEA*2*")
    )
    assert len(read_835(text).payments) == 2


def test_it_warns_about_an_unknown_segment() -> None:
    text = _with_segments_before(_text(SYNTHETIC), "PLB", "ZZZ*1*2~\n")
    remittance = read_835(text)
    assert remittance.payments[0].amount == Decimal("116.25")
    assert remittance.warnings == ("Payment 0001: ignored an unexpected ZZZ segment.",)


@pytest.mark.parametrize("cut", ["SE*", "GE*", "IEA*", "CLP*PCN1003"])
def test_it_refuses_a_truncated_file(cut: str) -> None:
    text = _text(SYNTHETIC)
    with pytest.raises(ERAError, match="incomplete"):
        read_835(text[: text.index(cut)])


def test_it_refuses_a_277() -> None:
    with pytest.raises(ERAError, match=r"not a remittance advice \(835\)"):
        read_835(_text("lfh_277_5010_claim_level_status.277"))


def test_it_refuses_another_transaction_under_an_835_version() -> None:
    text = _text(SYNTHETIC).replace("ST*835*", "ST*837*")
    with pytest.raises(ERAError, match="it is a 837 transaction"):
        read_835(text)


def test_it_refuses_a_wrong_segment_count() -> None:
    text = _text(SYNTHETIC).replace("SE*65*", "SE*64*")
    with pytest.raises(ERAError, match="Payment 0001 is damaged"):
        read_835(text)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("SE*65*0001", "SE*65*0002", "Payment 0001 is damaged"),
        ("GE*1*101", "GE*2*101", "Group 101 is damaged"),
        ("GE*1*101", "GE*1*102", "Group 101 is damaged"),
        ("IEA*1*000000101", "IEA*1*000000102", "Interchange 000000101 is damaged"),
        ("IEA*1*", "IEA*2*", "Interchange 000000101 is damaged"),
    ],
)
def test_it_refuses_mismatched_trailers(old: str, new: str, message: str) -> None:
    with pytest.raises(ERAError, match=message):
        read_835(_text(SYNTHETIC).replace(old, new))


def test_it_refuses_something_that_is_not_x12() -> None:
    with pytest.raises(ERAError, match="not an X12 file"):
        read_835(b"Dear provider, please find enclosed...")


def _pyx12_amounts(path: Path) -> list[tuple]:
    # The samples carry one triplet per CAS segment, so CAS01/CAS03 are enough to compare.
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    found: list[tuple] = []
    with path.open() as fd:
        src = pyx12.x12context.X12ContextReader(pyx12.params.params(), pyx12.error_handler.errh_null(), fd)
        for node in src.iter_segments("2100"):
            if node.id == "2100":
                found.append(
                    ("CLP", node.get_value("CLP01"), Decimal(node.get_value("CLP03")), Decimal(node.get_value("CLP04")))
                )
                found.extend(("CAS", c.get_value("CAS01"), Decimal(c.get_value("CAS03"))) for c in node.select("CAS"))
                for line in node.select("2110"):
                    found.append(
                        (
                            "SVC",
                            line.get_value("SVC01-2"),
                            Decimal(line.get_value("SVC02")),
                            Decimal(line.get_value("SVC03")),
                        )
                    )
                    found.extend(
                        ("CAS", c.get_value("CAS01"), Decimal(c.get_value("CAS03"))) for c in line.select("CAS")
                    )
            elif node.seg_data.get_seg_id() == "PLB":
                for k in range(3, 15, 2):
                    if node.get_value(f"PLB{k:02}-1"):
                        found.append(("PLB", node.get_value(f"PLB{k:02}-1"), Decimal(node.get_value(f"PLB{k + 1:02}"))))
    return found


def _our_amounts(path: Path) -> list[tuple]:
    found: list[tuple] = []
    for payment in read_835(path.read_bytes()).payments:
        for claim in payment.claims:
            found.append(("CLP", claim.claim_number, claim.charge, claim.paid))
            found.extend(("CAS", a.group, a.amount) for a in claim.adjustments)
            for line in claim.lines:
                found.append(("SVC", line.code, line.charge, line.paid))
                found.extend(("CAS", a.group, a.amount) for a in line.adjustments)
        found.extend(("PLB", p.code, p.amount) for p in payment.provider_adjustments)
    return found


@pytest.mark.parametrize("path", [p for p in _sample_paths() if "835" in p.name], ids=lambda p: p.name)
def test_it_agrees_with_pyx12(path: Path) -> None:
    pytest.importorskip("pyx12")
    assert _our_amounts(path) == _pyx12_amounts(path)


def test_it_reads_the_patient_and_member_id_for_matching() -> None:
    (payment,) = read_835(_text(SYNTHETIC)).payments
    first = payment.claims[0]
    assert (first.patient_last_name, first.patient_first_name) == ("SAMPLE", "JANE")
    assert (first.patient_member_id, first.subscriber_member_id) == ("MBR0000001", "")
    assert first.service_date_from is None
    assert first.first_service_date == date(2025, 1, 5)
    # A claim with no service lines and no claim dates has no date of service.
    assert payment.claims[-1].first_service_date is None


def test_it_reads_the_subscriber_member_id() -> None:
    text = _with_segments_before(_text(SYNTHETIC), "NM1*82", "NM1*IL*1*SAMPLE*JOHN****MI*SUB0000009~")
    first = read_835(text).payments[0].claims[0]
    assert (first.patient_member_id, first.subscriber_member_id) == ("MBR0000001", "SUB0000009")


def test_it_never_keeps_a_social_security_number_as_member_id() -> None:
    (payment,) = read_835(_text("pyx12_835_4010_reversal_plb.txt")).payments
    assert payment.claims[0].patient_last_name == "Flintstone"
    assert payment.claims[0].patient_member_id == ""


def test_it_reads_the_claim_statement_dates() -> None:
    (payment,) = read_835(_text("lfh_835_5010_medicare_part_a_plb.835")).payments
    first, second = payment.claims
    assert (first.service_date_from, first.service_date_to) == (date(2002, 8, 16), date(2002, 8, 24))
    assert first.first_service_date == date(2002, 8, 16)
    assert (second.service_date_from, second.service_date_to) == (date(2002, 5, 12), None)
    assert first.patient_member_id == "666666666A"


def test_it_takes_the_earliest_line_date_as_the_claims_date_of_service() -> None:
    (payment,) = read_835(_text("pyx12_835_5010_denial_multi_svc.txt")).payments
    assert [line.service_date for line in payment.claims[0].lines] == [
        date(2003, 11, 29),
        date(2003, 10, 30),
        date(2003, 10, 31),
    ]
    assert payment.claims[0].first_service_date == date(2003, 10, 30)


def test_it_warns_about_an_invalid_statement_date() -> None:
    text = _with_segments_before(_text(SYNTHETIC), "NM1*82", "DTM*232*20251340~")
    remittance = read_835(text)
    assert remittance.payments[0].claims[0].service_date_from is None
    assert remittance.warnings == ("In claim PCN1001, the date '20251340' is not a valid date; it was left empty.",)


def test_it_reads_only_eight_digit_dates() -> None:
    remittance = read_835(_text(SYNTHETIC).replace("DTM*472*20250105", "DTM*472*2025015", 1))
    assert remittance.payments[0].claims[0].lines[0].service_date is None
    assert remittance.warnings == ("In claim PCN1001, the date '2025015' is not a valid date; it was left empty.",)
