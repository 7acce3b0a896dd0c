from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SCORER = Path("/work/shared/corpus/score_outcomes.py")

CALLS = [
    {
        "id": "own-1",
        "call_date": "2026-06-10",
        "claim": {"claim_number": "C-1", "date_of_service": "2026-05-04", "prior_denial_code": None},
        "transcript": "\n".join(
            [
                "User: Claims, this is Odette.",
                "AI: Hi Odette, the claim for May fourth.",
                "User: That claim was paid on June second, paid amount ninety-one twenty, check number 4-4-0-9.",
                "AI: Thanks. A reference number?",
                "User: Sure, it's 7-1-2-2-8.",
            ]
        ),
        "expected": {
            "claim_status": "paid",
            "reference_number": "71228",
            "rep_name": "Odette",
            "denial_code": None,
            "remark_codes": [],
            "paid_amount": "91.20",
            "check_or_eft_number": "4409",
            "payment_date": "2026-06-02",
            "follow_up_days": None,
            "call_outcome": "resolved",
            "human_reached": True,
        },
    },
    {
        "id": "own-2",
        "call_date": "2026-06-10",
        "claim": {"claim_number": "C-2", "date_of_service": "2026-05-06"},
        "transcript": "\n".join(
            [
                "User: For claims, press one.",
                "AI: [DTMF 1]",
                "User: Our offices are closed. Please call back during business hours. Goodbye.",
            ]
        ),
        "expected": {
            "claim_status": "unknown",
            "reference_number": None,
            "rep_name": None,
            "denial_code": None,
            "remark_codes": [],
            "paid_amount": None,
            "check_or_eft_number": None,
            "payment_date": None,
            "follow_up_days": None,
            "call_outcome": "failed",
            "human_reached": False,
        },
    },
]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(call) + "\n" for call in CALLS), encoding="utf-8")
    return path


def test_it_writes_one_prediction_per_call_with_the_expected_field_names(corpus, tmp_path):
    out = tmp_path / "pred.jsonl"
    call_command("extract_outcomes", str(corpus), out=str(out), extractor="rules")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["own-1", "own-2"]
    assert set(rows[0]["outcome"]) == set(CALLS[0]["expected"])


def test_it_writes_the_pipelines_review_flags_beside_each_outcome(corpus, tmp_path):
    held = {
        "id": "own-3",
        "call_date": "2026-06-10",
        "claim": {"claim_number": "C-3", "date_of_service": "2026-05-06"},
        # The rep names a status the reader cannot place: it is held for a person.
        "transcript": "\n".join(
            ["User: Claims, this is Bea.", "AI: Hi Bea, claim C-3 please.", "User: Hm, I see it, give me a moment."]
        ),
    }
    path = tmp_path / "with-held.jsonl"
    path.write_text(corpus.read_text() + json.dumps(held) + "\n", encoding="utf-8")
    out = tmp_path / "pred.jsonl"

    call_command("extract_outcomes", str(path), out=str(out), extractor="rules")

    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert (rows["own-1"]["needs_review"], rows["own-1"]["review_reasons"]) == (False, [])
    # A call that reached nobody is the failure policy's, as in the pipeline: nothing to review.
    assert (rows["own-2"]["needs_review"], rows["own-2"]["outcome"]["call_outcome"]) == (False, "failed")
    assert rows["own-3"]["needs_review"] is True and rows["own-3"]["review_reasons"]


@pytest.mark.skipif(not SCORER.exists(), reason="the shared corpus scorer is not on this machine")
def test_it_scores_perfectly_on_its_own_calls_with_the_shared_scorer(corpus, tmp_path):
    out = tmp_path / "pred.jsonl"
    call_command("extract_outcomes", str(corpus), out=str(out), extractor="rules")
    result = subprocess.run(
        [sys.executable, str(SCORER), str(corpus), str(out)], capture_output=True, text=True, check=True
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["all_key_fields"] == 1.0
    assert summary["false_positives"] == 0


def test_it_names_a_missing_corpus_file(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("extract_outcomes", str(tmp_path / "nope.jsonl"), out=str(tmp_path / "p.jsonl"))


def test_it_names_the_malformed_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(CALLS[0]) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3 is not valid JSON"):
        call_command("extract_outcomes", str(path), out=str(tmp_path / "p.jsonl"))


def test_it_names_a_line_without_a_transcript(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1 needs"):
        call_command("extract_outcomes", str(path), out=str(tmp_path / "p.jsonl"))


def test_it_names_a_bad_call_date(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**CALLS[0], "call_date": "June"}) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match='line 1: "call_date"'):
        call_command("extract_outcomes", str(path), out=str(tmp_path / "p.jsonl"))
