from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from billing.era import validation
from billing.era.validation import structural_problems

pytest.importorskip("pyx12")

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "era"
SYNTHETIC = "synthetic_835_5010_mixed.835"

# What pyx12 finds in each sample (SOURCES.md lists the same); the others are clean.
EXPECTED = {
    "lfh_835_5010_managed_care.835": [
        'Segment 4 (BPR): Data element "Check Issue or EFT Effective Date" (BPR16) contains an invalid date (20002316)',
        'Segment 10 (PER): Mandatory segment "Payer Technical Contact Information" (PER) missing',
    ],
    "lfh_835_5010_medicare_part_a_plb.835": [
        'Segment 11 (PER): Mandatory segment "Payer Technical Contact Information" (PER) missing',
        'Segment 13 (TS3): Data element "Monetary Amount" (TS309) is marked as Not Used',
        'Segment 13 (TS3): Data element "Monetary Amount" (TS311) is marked as Not Used',
        'Segment 23 (TS3): Data element "Monetary Amount" (TS309) is marked as Not Used',
        'Segment 23 (TS3): Data element "Monetary Amount" (TS311) is marked as Not Used',
    ],
    "lfh_277_5010_claim_level_status.277": [
        "The group header (GS) does not name a remittance advice (835) version the structure check knows "
        "(004010X091A1 or 005010X221A1)."
    ],
}


def _sample_paths() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".835", ".txt", ".277"))


def _bytes(name: str) -> bytes:
    if not SAMPLES.is_dir():
        pytest.skip("sample ERA folder is not available")
    return (SAMPLES / name).read_bytes()


def _listing(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir()}


@pytest.mark.parametrize("path", _sample_paths(), ids=lambda p: p.name)
def test_it_checks_every_sample(path: Path) -> None:
    assert structural_problems(path.read_bytes()) == EXPECTED.get(path.name, [])


def test_it_finds_a_truncated_file_incomplete() -> None:
    text = _bytes(SYNTHETIC).decode()
    truncated = "~".join(text.split("~")[:40]) + "~"
    assert structural_problems(truncated.encode()) == [
        'Interchange 000000101: Mandatory segment "Interchange Control Trailer" (IEA=000000101) missing',
        'Group 101: Mandatory segment "Functional Group Trailer" (GE=101) missing',
        'Transaction 0001: Mandatory segment "Transaction Set Trailer" (SE=0001) missing',
    ]


def test_it_finds_a_wrong_segment_count() -> None:
    broken = _bytes(SYNTHETIC).replace(b"SE*65*", b"SE*60*")
    assert structural_problems(broken) == ["Transaction 0001: SE count of 60 for SE02=0001 is wrong. I count 65"]


def test_it_names_the_segment_of_a_bad_value() -> None:
    broken = _bytes(SYNTHETIC).replace(b"CLP*PCN1002*4*180.00", b"CLP*PCN1002*4*18O.00")
    (problem,) = structural_problems(broken)
    assert problem.startswith("Segment 33 (CLP): ")
    assert "CLP03" in problem


def test_it_reads_a_byte_order_mark() -> None:
    data = _bytes(SYNTHETIC)
    assert structural_problems(b"\xef\xbb\xbf" + data) == []
    assert structural_problems("\ufeff" + data.decode()) == []
    assert structural_problems(data.replace(b"~\n", b"~\r\n")) == []


def test_it_reads_a_name_that_is_not_utf8() -> None:
    # Latin-1 bytes are decoded as the reader does; the letter is outside X12's basic character set.
    broken = _bytes(SYNTHETIC).replace(b"SAMPLE*JANE", b"SAMPLE*JA\xd1E")
    assert structural_problems(broken) == [
        'Segment 18 (NM1): Data element "Patient First Name" (NM104) is type AN, contains an invalid character(JA\xd1E)'
    ]


def test_it_ignores_its_false_positive_on_repeated_plb_segments() -> None:
    data = _bytes(SYNTHETIC).decode()
    two = data.replace(
        "PLB*1234567893*20251231*WO:ICN2411010077*75.00*L6*-1.25~",
        "PLB*1234567893*20251231*WO:ICN2411010077*75.00~\nPLB*1234567893*20251231*L6*-1.25~",
    ).replace("SE*65*", "SE*66*")
    assert structural_problems(two.encode()) == []
    # Other findings on a repeated PLB still count.
    bad = two.replace("L6*-1.25", "L6*-1.2X")
    (problem,) = structural_problems(bad.encode())
    assert problem.startswith("Segment 67 (PLB): ")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "This is not an X12 file: it does not start with an interchange header (ISA)."),
        (b"Dear provider, please find enclosed", "This is not an X12 file"),
        (b"\x00\xff\xfe" * 100, "This is not an X12 file"),
        (b"ISA*00*" + b"x" * 200, "The structure check could not read the interchange header (ISA)"),
        (b"ISA" + b"\xff" * 200, "The structure check could not read the interchange header (ISA)"),
    ],
)
def test_it_reports_unreadable_input_without_raising(data: bytes, problem: str) -> None:
    (found,) = structural_problems(data)
    assert found.startswith(problem)


def test_it_reports_a_damaged_second_interchange_without_raising() -> None:
    broken = _bytes(SYNTHETIC).replace(b"*T*:~", b"*T*:~ISA*00*~", 1)
    assert structural_problems(broken) == ["The interchange header (ISA) is damaged: it must have 16 elements."]


def test_it_caps_the_number_of_problems(monkeypatch) -> None:
    monkeypatch.setattr(validation, "MAX_PROBLEMS", 1)
    assert structural_problems(_bytes("lfh_835_5010_medicare_part_a_plb.835")) == [
        'Segment 11 (PER): Mandatory segment "Payer Technical Contact Information" (PER) missing',
        "… and 4 more structural problems.",
    ]


def test_it_writes_no_file(tmp_path, monkeypatch) -> None:
    # pyx12's command line writes a .997 beside its input; nothing may appear beside the
    # input, in the working directory, in the samples or in the temporary folder.
    beside, work, temp = tmp_path / "upload", tmp_path / "cwd", tmp_path / "tmp"
    for folder in (beside, work, temp):
        folder.mkdir()
    copy = beside / "remit.835"
    copy.write_bytes(_bytes("lfh_835_5010_managed_care.835"))
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    samples = _listing(SAMPLES)
    for path in [copy, *_sample_paths()]:
        structural_problems(path.read_bytes())
    assert (_listing(beside), _listing(work), _listing(temp)) == ({"remit.835"}, set(), set())
    assert _listing(SAMPLES) == samples


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_it_keeps_file_contents_out_of_the_logs() -> None:
    # What reaches the root logger's handlers is what the application logs. (pytest's own
    # caplog also listens on loggers that do not propagate, so it would see pyx12's records.)
    root, collect = logging.getLogger(), _Collect()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        structural_problems(_bytes("lfh_835_5010_managed_care.835"))
        structural_problems(_bytes("lfh_277_5010_claim_level_status.277"))
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    logged = "\n".join(collect.messages)
    assert "20002316" not in logged
    assert "005010X212" not in logged
    assert "pyx12 could not check an 835 (EngineError)" in logged
