"""(D) How well does the offline outcome reader understand payer calls?

Two measurements of ``ai.extraction`` with the ``rules`` reader, no network, no database:

1. The labelled dev corpus (``../shared/corpus/transcripts-dev.jsonl``), through
   ``manage.py extract_outcomes`` and the corpus's own scorer, against the goals: claim
   status ≥ 95 %, reference number ≥ 95 %, call outcome ≥ 90 %, follow-up days ≥ 90 %, all
   key fields ≥ 80 %, and no false positive for reference number, paid amount or check/EFT
   number.
   The same for the project's own labelled corpora in ``ai/data/calls/`` (written without
   looking at the reader).
2. A second phrasing: transcripts from the sandbox's call writer
   (``telephony/sandbox/script.py``) for varied claims, compared with what the writer says
   happened.

    .venv/bin/python bench/extraction.py [--corpus PATH] [--sandbox-calls 400] [--no-results]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from benchlib import ROOT, machine_lines, say, table, write_section

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "transcripts-dev.jsonl"
GOALS = {"claim_status": 0.95, "reference_number": 0.95, "call_outcome": 0.90, "follow_up_days": 0.90}
ALL_KEY_GOAL = 0.80
NO_FALSE_POSITIVES = ("reference_number", "paid_amount", "check_or_eft_number")
FAILURES = {"no_answer", "voicemail", "ivr_failure", "hold_too_long"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a labelled corpus (repeat for several); default: the dev corpus and ai/data/calls/*.jsonl",
    )
    parser.add_argument("--sandbox-calls", type=int, default=400)
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    corpora = args.corpus or [DEFAULT_CORPUS, *sorted((ROOT / "ai" / "data" / "calls").glob("*.jsonl"))]

    scored = [(corpus, *score_corpus(corpus)) for corpus in corpora]
    held_out = sandbox_check(args.sandbox_calls)
    lines = results(args, scored, held_out)
    say("\n".join(lines))
    if not args.no_results:
        write_section("extraction", "Outcome extraction, offline reader (D)", lines)


def score_corpus(corpus: Path) -> tuple[dict, str]:
    """Accuracy and false positives per field from the shared scorer (and its printed table), and
    the values given that differ from the truth for the fields that must never be wrong."""
    with tempfile.TemporaryDirectory() as folder:
        predictions = Path(folder) / "predictions.jsonl"
        subprocess.run(
            [sys.executable, "manage.py", "extract_outcomes", str(corpus), "--out", str(predictions)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        scorer = corpus.parent / "score_outcomes.py"
        if not scorer.exists():
            scorer = DEFAULT_CORPUS.parent / "score_outcomes.py"
        output = subprocess.run(
            [sys.executable, str(scorer), str(corpus), str(predictions)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wrong = _wrong_values(corpus, predictions)
    lines = output.strip().splitlines()
    false_positives = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and parts[1].endswith("%"):
            false_positives[parts[0]] = int(parts[2])
    return {"summary": json.loads(lines[-1]), "false_positives": false_positives, "wrong": wrong}, "\n".join(lines[:-1])


def _wrong_values(corpus: Path, predictions: Path) -> Counter:
    """Per field: a value given that is not the labelled one (a false positive, or simply wrong)."""
    truth = {record["id"]: record["expected"] for record in map(json.loads, corpus.read_text().splitlines()) if record}
    wrong = Counter()
    for line in predictions.read_text().splitlines():
        prediction = json.loads(line)
        expected = truth.get(prediction["id"], {})
        for field in NO_FALSE_POSITIVES:
            given = _normal(field, prediction["outcome"].get(field))
            if given is not None and given != _normal(field, expected.get(field)):
                wrong[field] += 1
    return wrong


def _normal(field: str, value):
    if value in (None, ""):
        return None
    if field == "paid_amount":
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return "".join(character for character in str(value).upper() if character.isalnum())


def sandbox_check(count: int) -> dict[str, Counter]:
    """The reader against the sandbox writer's calls: (right, asked) per field, and false positives."""
    import os

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billingpulse.settings")
    import django

    django.setup()
    from ai.extraction import extract_outcome
    from ai.outcome import ClaimContext
    from telephony.sandbox.script import write_call

    right, asked, wrong_values = Counter(), Counter(), Counter()
    call_date = date(2026, 11, 20)
    for n in range(count):
        facts = _facts(random.Random(n))
        script = write_call(facts, f"bench-{n}", call_date=call_date)
        transcript = "".join(
            f"{'AI' if turn.role == 'bot' else 'User'}: {turn.text}\n" for turn in script.turns if turn.role != "dtmf"
        )
        context = ClaimContext(
            claim_number=facts.claim_number,
            patient_name=facts.patient_name,
            patient_dob=facts.patient_dob.isoformat(),
            date_of_service=facts.date_of_service.isoformat(),
            billed_amount=str(facts.billed),
            payer=facts.payer_name,
            member_id=facts.member_id,
            prior_denial_code=facts.denial_code or None,
            call_date=call_date,
        )
        outcome = extract_outcome(transcript, context, extractor="rules")
        truth = {
            "claim_status": "unknown" if script.outcome in FAILURES else script.outcome,
            "reference_number": script.reference_number or None,
            "rep_name": script.rep_name or None,
            "paid_amount": script.facts_said.get("paid_amount"),
        }
        for field, expected in truth.items():
            got = getattr(outcome, field)
            if field == "rep_name":  # first names, as the corpus scorer compares them
                got, expected = (name.split()[0] if name else None for name in (got, expected))
            if expected is not None:
                asked[field] += 1
                right[field] += got == expected
            if got is not None and got != expected and field != "claim_status":
                wrong_values[field] += 1
        asked["flagged"] += 1
        right["flagged"] += outcome.needs_review
        right["flagged_reached"] += outcome.needs_review and script.outcome not in FAILURES
    return {"right": right, "asked": asked, "wrong_values": wrong_values}


def _facts(rng: random.Random):
    from telephony.sandbox.script import ClaimFacts

    denial = rng.choice(["", "", "", "CO-16", "CO-197", "PR-1", "CO-50", "CO-97", "CO-29"])
    return ClaimFacts(
        practice_name="Riverbend Family Medicine",
        npi="1457392816",
        tax_id="741234567",
        patient_name=rng.choice(["Maria Gonzalez", "James Carter", "Aisha Rahman", "Robert Nguyen", "Grace Kowalski"]),
        patient_dob=date(1940 + rng.randint(0, 60), rng.randint(1, 12), rng.randint(1, 28)),
        member_id=f"W{rng.randint(10**8, 10**9 - 1)}",
        date_of_service=date(2026, rng.randint(1, 10), rng.randint(1, 28)),
        billed=Decimal(rng.randint(4_000, 400_000)) / 100,
        claim_number=f"RB-{rng.randint(10_000, 99_999)}",
        payer_name=rng.choice(["Aetna", "UnitedHealthcare", "Cigna", "Humana", "BCBS Texas"]),
        denial_code=denial,
        claim_status="denied" if denial else "submitted",
        lines=((1, "99213", Decimal("150.00")),),
    )


def results(args, scored: list[tuple[Path, dict, str]], held_out: dict) -> list[str]:
    lines = [
        *(line.replace("PostgreSQL not used; ", "") for line in machine_lines("not used")),
        f"- Command: `.venv/bin/python bench/extraction.py --sandbox-calls {args.sandbox_calls}`",
        "- Each corpus is scored by the dev corpus's own `score_outcomes.py`. *Wrong values* counts values "
        "given that are not the labelled ones (false positives included); the goal allows none for these fields.",
    ]
    for corpus, scores, report in scored:
        lines += ["", f"### `{corpus.name}` ({scores['summary']['calls']} calls)", "", *_goal_table(scores)]
        lines += ["", "```", report, "```"]
    right, asked, wrong = held_out["right"], held_out["asked"], held_out["wrong_values"]
    held_rows = [
        (field, f"{right[field]}/{asked[field]}", f"{right[field] / max(asked[field], 1):.1%}", wrong[field])
        for field in ("claim_status", "reference_number", "rep_name", "paid_amount")
    ]
    return [
        *lines,
        "",
        f"### The sandbox writer's calls ({args.sandbox_calls})",
        "",
        "Transcripts from the sandbox's call writer (`telephony/sandbox/script.py`: its own wording, IVR menus, "
        "holds, spelled and phonetic reference numbers, failed calls) for varied claims, compared with what the "
        "writer says happened.",
        "",
        *table(["Field", "Right", "Accuracy", "Wrong values"], held_rows),
        "",
        f"Held for review: {right['flagged']} of {asked['flagged']} calls, {right['flagged_reached']} of them"
        " calls where the payer gave a status (the rest reached nobody).",
    ]


def _goal_table(scores: dict) -> list[str]:
    summary, false_positives, wrong = scores["summary"], scores["false_positives"], scores["wrong"]
    checks = [(f"{field} ≥ {goal:.0%}", summary[field], summary[field] >= goal) for field, goal in GOALS.items()]
    all_key = summary["all_key_fields"]
    checks.append((f"all key fields ≥ {ALL_KEY_GOAL:.0%}", all_key, all_key >= ALL_KEY_GOAL))
    rows = [(what, f"{value:.1%}", "met" if ok else "NOT met") for what, value, ok in checks]
    for field in NO_FALSE_POSITIVES:
        count, given_wrong = false_positives.get(field), wrong[field]
        rows.append(
            (
                f"{field}: false positives = 0 (wrong values)",
                f"{count} ({given_wrong})",
                "met" if count == 0 else "NOT met",
            )
        )
    return table(["Goal", "Measured", ""], rows)


if __name__ == "__main__":
    main()
