"""The offline extractor on corpora written apart from the rules, through ``extract_outcomes``.

``ai/data/calls/calls-holdout.jsonl`` was held out while the rules grew; ``calls-blind.jsonl``,
``calls-blind3.jsonl`` (longer calls: rambling reps, transfers, corrections, a second claim
mentioned) and ``calls-blind4.jsonl`` (payer styles: screen fields read aloud, formal
phrasing, Medicare contractors, Medicaid plans, dental EOBs, workers' comp adjusters, virtual
cards) were written later without looking at the reader, in the same format
(``/work/shared/corpus/SCHEMA.md``); the fresh corpora of bench/RESULTS.md section D (``FRESH``)
came later the same way.
Each field must stay at or above its floor, set a little under what the extractor reaches, and the
values that would do harm if wrong (reference, paid amount, check or EFT number) are never wrong:
an unreadable value must come back null, never a guess.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from django.core.management import call_command

DATA = Path(__file__).resolve().parent.parent / "data" / "calls"
FLOORS = {
    "claim_status": 0.95,
    "reference_number": 0.95,
    "denial_code": 0.9,
    "paid_amount": 0.95,
    "follow_up_days": 0.9,
    "call_outcome": 0.95,
    "rep_name": 0.9,
    "remark_codes": 0.9,
    "check_or_eft_number": 0.95,
    "payment_date": 0.9,
    "human_reached": 0.95,
}
# Per corpus: its file, its per-field floors and its floor for calls with every key field right.
CORPORA = {
    "holdout": ("calls-holdout.jsonl", FLOORS, 0.9),
    "blind": ("calls-blind.jsonl", FLOORS, 0.9),
    "blind3": ("calls-blind3.jsonl", FLOORS, 0.9),
    "blind4": ("calls-blind4.jsonl", FLOORS, 0.9),
}
# The fresh corpora of bench/RESULTS.md section D, kept as regression sets once their first score was
# taken: floors a little under what the reader reaches now, and the review gate's figures (share of
# calls applied without review, most wrong key values among them). The goals (zero wrong applied,
# every field at 95% or more) are not all met; these floors only stop a change from going backwards.
FRESH = {
    "week": (
        "calls-week.jsonl",
        {
            "claim_status": 0.94,
            "reference_number": 0.97,
            "denial_code": 0.95,
            "paid_amount": 0.94,
            "follow_up_days": 0.95,
            "call_outcome": 0.92,
            "rep_name": 0.95,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.97,
            "payment_date": 0.95,
            "human_reached": 0.97,
        },
        0.91,
        (0.89, 0),
    ),
    "ivr": (
        "calls-ivr.jsonl",
        {
            "claim_status": 0.97,
            "reference_number": 0.97,
            "denial_code": 0.97,
            "paid_amount": 0.97,
            "follow_up_days": 0.97,
            "call_outcome": 0.97,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.93,
            "payment_date": 0.97,
            "human_reached": 0.97,
        },
        0.97,
        (0.88, 0),
    ),
    "chatty": (
        "calls-chatty.jsonl",
        {
            "claim_status": 0.94,
            "reference_number": 0.92,
            "denial_code": 0.92,
            "paid_amount": 0.97,
            "follow_up_days": 0.95,
            "call_outcome": 0.94,
            "rep_name": 0.92,
            "remark_codes": 0.94,
            "check_or_eft_number": 0.89,
            "payment_date": 0.95,
            "human_reached": 0.97,
        },
        0.85,
        (0.73, 0),
    ),
    "denials": (
        "calls-denials.jsonl",
        {
            "claim_status": 0.93,
            "reference_number": 0.97,
            "denial_code": 0.92,
            "paid_amount": 0.95,
            "follow_up_days": 0.93,
            "call_outcome": 0.92,
            "rep_name": 0.93,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.93,
            "payment_date": 0.93,
            "human_reached": 0.97,
        },
        0.84,
        (0.69, 0),
    ),
    "frontdesk": (
        "calls-frontdesk.jsonl",
        {
            "claim_status": 0.92,
            "reference_number": 0.97,
            "denial_code": 0.95,
            "paid_amount": 0.95,
            "follow_up_days": 0.95,
            "call_outcome": 0.92,
            "rep_name": 0.97,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.95,
            "payment_date": 0.92,
            "human_reached": 0.97,
        },
        0.9,
        (0.85, 0),
    ),
    "terse": (
        "calls-terse.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.97,
            "denial_code": 0.92,
            "paid_amount": 0.92,
            "follow_up_days": 0.93,
            "call_outcome": 0.92,
            "rep_name": 0.95,
            "remark_codes": 0.92,
            "check_or_eft_number": 0.84,
            "payment_date": 0.7,
            "human_reached": 0.95,
        },
        0.86,
        (0.79, 0),
    ),
    "noisy": (
        "calls-noisy.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.92,
            "denial_code": 0.9,
            "paid_amount": 0.95,
            "follow_up_days": 0.97,
            "call_outcome": 0.92,
            "rep_name": 0.95,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.93,
            "payment_date": 0.93,
            "human_reached": 0.97,
        },
        0.81,
        (0.77, 0),
    ),
    "mixed": (
        "calls-mixed.jsonl",
        {
            "claim_status": 0.95,
            "reference_number": 0.97,
            "denial_code": 0.97,
            "paid_amount": 0.97,
            "follow_up_days": 0.95,
            "call_outcome": 0.97,
            "rep_name": 0.9,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.92,
            "payment_date": 0.95,
            "human_reached": 0.93,
        },
        0.93,
        (0.88, 0),
    ),
    "rural": (
        "calls-rural.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.97,
            "denial_code": 0.93,
            "paid_amount": 0.92,
            "follow_up_days": 0.95,
            "call_outcome": 0.92,
            "rep_name": 0.95,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.9,
            "payment_date": 0.97,
            "human_reached": 0.97,
        },
        0.87,
        (0.77, 0),
    ),
    "north": (
        "calls-north.jsonl",
        {
            "claim_status": 0.93,
            "reference_number": 0.97,
            "denial_code": 0.95,
            "paid_amount": 0.92,
            "follow_up_days": 0.93,
            "call_outcome": 0.95,
            "rep_name": 0.95,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.79,
            "payment_date": 0.86,
            "human_reached": 0.97,
        },
        0.87,
        (0.82, 2),
    ),
    "surgery": (
        "calls-surgery.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.95,
            "denial_code": 0.95,
            "paid_amount": 0.92,
            "follow_up_days": 0.93,
            "call_outcome": 0.89,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.93,
            "payment_date": 0.95,
            "human_reached": 0.97,
        },
        0.82,
        (0.79, 0),
    ),
    "urgent": (
        "calls-urgent.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.97,
            "denial_code": 0.93,
            "paid_amount": 0.97,
            "follow_up_days": 0.92,
            "call_outcome": 0.9,
            "rep_name": 0.97,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.97,
            "payment_date": 0.97,
            "human_reached": 0.97,
        },
        0.9,
        (0.78, 0),
    ),
    "cardio": (
        "calls-cardio.jsonl",
        {
            "claim_status": 0.95,
            "reference_number": 0.97,
            "denial_code": 0.97,
            "paid_amount": 0.97,
            "follow_up_days": 0.95,
            "call_outcome": 0.93,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.97,
            "payment_date": 0.97,
            "human_reached": 0.97,
        },
        0.93,
        (0.89, 0),
    ),
    "therapy": (
        "calls-therapy.jsonl",
        {
            "claim_status": 0.9,
            "reference_number": 0.97,
            "denial_code": 0.92,
            "paid_amount": 0.93,
            "follow_up_days": 0.93,
            "call_outcome": 0.9,
            "rep_name": 0.97,
            "remark_codes": 0.93,
            "check_or_eft_number": 0.97,
            "payment_date": 0.93,
            "human_reached": 0.97,
        },
        0.87,
        (0.8, 0),
    ),
    "lab": (
        "calls-lab.jsonl",
        {
            "claim_status": 0.87,
            "reference_number": 0.97,
            "denial_code": 0.86,
            "paid_amount": 0.93,
            "follow_up_days": 0.93,
            "call_outcome": 0.84,
            "rep_name": 0.97,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.95,
            "payment_date": 0.89,
            "human_reached": 0.97,
        },
        0.79,
        (0.75, 2),
    ),
    "obpeds": (
        "calls-obpeds.jsonl",
        {
            "claim_status": 0.94,
            "reference_number": 0.97,
            "denial_code": 0.95,
            "paid_amount": 0.97,
            "follow_up_days": 0.95,
            "call_outcome": 0.94,
            "rep_name": 0.95,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.94,
            "payment_date": 0.89,
            "human_reached": 0.97,
        },
        0.92,
        # op-028's label leaves out the "PR-3" the rep gives for a copay; most sets label the code said
        (0.8, 1),
    ),
    "renal": (
        "calls-renal.jsonl",
        {
            "claim_status": 0.92,
            "reference_number": 0.97,
            "denial_code": 0.97,
            "paid_amount": 0.9,
            "follow_up_days": 0.95,
            "call_outcome": 0.92,
            "rep_name": 0.97,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.94,
            "payment_date": 0.92,
            "human_reached": 0.97,
        },
        0.89,
        (0.78, 0),
    ),
    "fqhc": (
        "calls-fqhc.jsonl",
        {
            "claim_status": 0.87,
            "reference_number": 0.97,
            "denial_code": 0.9,
            "paid_amount": 0.93,
            "follow_up_days": 0.93,
            "call_outcome": 0.89,
            "rep_name": 0.95,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.93,
            "payment_date": 0.9,
            "human_reached": 0.95,
        },
        0.82,
        (0.73, 1),
    ),
    "dme": (
        "calls-dme.jsonl",
        {
            "claim_status": 0.89,
            "reference_number": 0.97,
            "denial_code": 0.95,
            "paid_amount": 0.93,
            "follow_up_days": 0.92,
            "call_outcome": 0.9,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.92,
            "payment_date": 0.92,
            "human_reached": 0.97,
        },
        0.86,
        (0.78, 1),
    ),
    "home": (
        "calls-home.jsonl",
        {
            "claim_status": 0.87,
            "reference_number": 0.95,
            "denial_code": 0.92,
            "paid_amount": 0.93,
            "follow_up_days": 0.93,
            "call_outcome": 0.92,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.95,
            "payment_date": 0.95,
            "human_reached": 0.97,
        },
        0.82,
        (0.78, 0),
    ),
    "eyeent": (
        "calls-eyeent.jsonl",
        {
            "claim_status": 0.89,
            "reference_number": 0.95,
            "denial_code": 0.92,
            "paid_amount": 0.92,
            "follow_up_days": 0.95,
            "call_outcome": 0.93,
            "rep_name": 0.95,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.92,
            "payment_date": 0.89,
            "human_reached": 0.97,
        },
        0.82,
        (0.79, 0),
    ),
    "injury": (
        "calls-injury.jsonl",
        {
            "claim_status": 0.89,
            "reference_number": 0.97,
            "denial_code": 0.97,
            "paid_amount": 0.95,
            "follow_up_days": 0.89,
            "call_outcome": 0.86,
            "rep_name": 0.93,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.95,
            "payment_date": 0.95,
            "human_reached": 0.95,
        },
        0.81,
        (0.75, 0),
    ),
    "foot": (
        "calls-foot.jsonl",
        {
            "claim_status": 0.89,
            "reference_number": 0.95,
            "denial_code": 0.95,
            "paid_amount": 0.95,
            "follow_up_days": 0.95,
            "call_outcome": 0.92,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.95,
            "payment_date": 0.92,
            "human_reached": 0.97,
        },
        0.87,
        (0.87, 0),
    ),
    "infuse": (
        "calls-infuse.jsonl",
        {
            "claim_status": 0.95,
            "reference_number": 0.95,
            "denial_code": 0.95,
            "paid_amount": 0.95,
            "follow_up_days": 0.95,
            "call_outcome": 0.93,
            "rep_name": 0.93,
            "remark_codes": 0.95,
            "check_or_eft_number": 0.95,
            "payment_date": 0.92,
            "human_reached": 0.97,
        },
        0.89,
        (0.87, 0),
    ),
    "virtual": (
        "calls-virtual.jsonl",
        {
            "claim_status": 0.87,
            "reference_number": 0.97,
            "denial_code": 0.93,
            "paid_amount": 0.92,
            "follow_up_days": 0.93,
            "call_outcome": 0.92,
            "rep_name": 0.97,
            "remark_codes": 0.97,
            "check_or_eft_number": 0.93,
            "payment_date": 0.9,
            "human_reached": 0.97,
        },
        0.84,
        (0.78, 0),
    ),
}
CORPORA.update({name: spec[:3] for name, spec in FRESH.items()})
KEY_FIELDS = ("claim_status", "reference_number", "denial_code", "paid_amount", "follow_up_days", "call_outcome")
NEVER_WRONG = ("reference_number", "paid_amount", "check_or_eft_number")


def _alnum(value: object) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(value).upper())


def _money(value: object) -> object:
    try:
        return Decimal(str(value).replace("$", "").replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ("unreadable", str(value))


def _denial(value: object) -> str:
    text = re.sub(r"\s+", "", str(value).upper())
    match = re.fullmatch(r"([A-Z]{2})-?(\d+)", text)
    if match:
        return f"{match.group(1)}-{int(match.group(2))}"
    return str(int(text)) if text.isdigit() else text


NORMALISE = {
    "reference_number": _alnum,
    "check_or_eft_number": _alnum,
    "paid_amount": _money,
    "denial_code": _denial,
    "rep_name": lambda v: str(v).split()[0].strip(".,").lower(),
    "remark_codes": lambda v: frozenset(_alnum(code) for code in v),
}


def _empty(value: object) -> bool:
    return value is None or value == "" or value == []


def _same(field: str, truth: object, found: object) -> bool:
    if _empty(truth) or _empty(found):
        return _empty(truth) and _empty(found)
    if field == "follow_up_days":
        return abs(int(truth) - int(found)) <= max(1, round(0.1 * int(truth)))
    normalise = NORMALISE.get(field, lambda v: v)
    return normalise(truth) == normalise(found)


_READ: dict[str, list] = {}


def _read(name: str, tmp_path_factory) -> list[tuple[str, dict, dict]]:
    """[(call id, expected, predicted with its review flag)] for one corpus, read once per session."""
    if name not in _READ:
        path = DATA / CORPORA[name][0]
        out = tmp_path_factory.mktemp(name) / "predictions.jsonl"
        call_command("extract_outcomes", str(path), "--out", str(out), "--extractor", "rules")
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        predictions = {p["id"]: {**p["outcome"], "needs_review": p["needs_review"]} for p in lines}
        assert set(predictions) == {r["id"] for r in records}
        _READ[name] = [(r["id"], r["expected"], predictions[r["id"]]) for r in records]
    return _READ[name]


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus(request, tmp_path_factory):
    return request.param, _read(request.param, tmp_path_factory)


@pytest.fixture(scope="module", params=sorted(set(CORPORA) - set(FRESH)))
def strict_corpus(request, tmp_path_factory):
    """The older sets, on which money and identifiers are never wrong."""
    return request.param, _read(request.param, tmp_path_factory)


@pytest.fixture(scope="module", params=sorted(FRESH))
def fresh_corpus(request, tmp_path_factory):
    return request.param, _read(request.param, tmp_path_factory)


@pytest.mark.parametrize("field", FLOORS)
def test_it_stays_above_the_floor_for_each_field(corpus, field):
    name, results = corpus
    misses = [call_id for call_id, truth, found in results if not _same(field, truth[field], found[field])]
    accuracy = 1 - len(misses) / len(results)
    assert accuracy >= CORPORA[name][1][field], f"{name} {field}: {accuracy:.1%}, missed {misses}"


def test_it_gets_every_key_field_right_on_most_calls(corpus):
    name, results = corpus
    right = [call_id for call_id, truth, found in results if all(_same(f, truth[f], found[f]) for f in KEY_FIELDS)]
    assert len(right) / len(results) >= CORPORA[name][2]


@pytest.mark.parametrize("field", NEVER_WRONG)
def test_it_never_gives_a_wrong_value_for_money_and_identifiers(strict_corpus, field):
    _, results = strict_corpus
    wrong = [
        (call_id, truth[field], found[field])
        for call_id, truth, found in results
        if not _empty(found[field]) and not _same(field, truth[field], found[field])
    ]
    assert wrong == []


def test_the_review_gate_holds_what_it_held(fresh_corpus):
    """Calls applied with no person looking stay at their share, with no more wrong key values among them.

    As the scorer's ``wrong_applied`` counts them: a value left empty (a reference the gate could not
    parse, noted for a person) is missing, not wrong.
    """
    name, results = fresh_corpus
    applied_floor, wrong_ceiling = FRESH[name][3]
    applied = [(call_id, truth, found) for call_id, truth, found in results if not found["needs_review"]]
    wrong = [
        call_id
        for call_id, truth, found in applied
        if any(not _empty(found[f]) and not _same(f, truth[f], found[f]) for f in KEY_FIELDS)
    ]
    assert len(applied) / len(results) >= applied_floor, f"{name}: {len(applied)} of {len(results)} applied"
    assert len(wrong) <= wrong_ceiling, f"{name}: wrong key values applied on {wrong}"
