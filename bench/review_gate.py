"""(D) What the review gate's second reading catches on calls it has never seen.

The second reading (``ai/extraction/_second_reading.py``) is trained on the labelled corpora in
``ai/data/calls/``, so measuring it on any of them would measure calls it has learned. Here each
fresh corpus is left out in turn: the reading is trained on all the others and judges the
reader's *first* reading of the left-out corpus (``bench/first-readings/``: what
``extract_outcomes`` wrote for it when it was scored once, before anything was fixed from it).

For each corpus, the gate's figures with the other checks only and with the second reading
added: calls applied without review and key values wrong among them (the scorer's
``applied_without_review`` and ``wrong_applied``).

    .venv/bin/python bench/review_gate.py [--no-results]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchlib import ROOT, say, table, write_section

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "shared" / "corpus"))

from score_outcomes import KEY_FIELDS, is_null, same  # noqa: E402

from ai.extraction import _second_reading  # noqa: E402
from ai.extraction._checks import nothing_to_correct  # noqa: E402
from ai.outcome import CallOutcome  # noqa: E402

FIRST_READINGS = ROOT / "bench" / "first-readings"
CORPORA = ROOT / "ai" / "data" / "calls"
# Words only the second reading's review reason uses.
SECOND_READING_REASON = "calls worded like this one"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-results", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    rows, totals, applied = [], [0] * 7, []
    for first in sorted(FIRST_READINGS.glob("*.jsonl")):
        figures, sureness = measure(CORPORA / first.name, first)
        applied += sureness
        rows.append([f"`{first.name}`", *_figures(figures)])
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        say(f"{first.name}: {', '.join(_figures(figures))}")
    rows.append(["**all**", *_figures(totals)])
    lines = table(
        [
            "Corpus",
            "Calls",
            "Applied, other checks",
            "Wrong applied",
            "Applied, with second reading",
            "Wrong applied",
            "Second reading alone: status, outcome right",
        ],
        rows,
    )
    frontier = _frontier(applied, totals[0])
    say("\n".join([*lines, "", *frontier]))
    if not args.no_results:
        title = "The review gate's second reading on calls it had not learned (D)"
        write_section("review_gate", title, [*_NOTE, "", *lines, "", *_FRONTIER_NOTE, "", *frontier])


def measure(corpus: Path, first: Path) -> tuple[list[int], list[tuple[float, int]]]:
    """Calls; applied and wrong applied without and with a second reading trained without ``corpus``;
    the calls whose status, and whose outcome, that reading alone gets right. And for each call
    applied with the second reading: how sure that reading is of the status and outcome read (the
    lesser of its two chances) and the key values wrong on it."""
    others = [path for path in sorted(CORPORA.glob("*.jsonl")) if path.name != corpus.name]
    model = _second_reading.train(_second_reading.load_corpora(others))
    records = {r["id"]: r for r in _second_reading.load_corpora([corpus])}
    vectorizer, models = model
    features = vectorizer.transform([_second_reading.payer_speech(r["transcript"]) for r in records.values()])
    alone = [
        sum(map(str.__eq__, models[name].predict(features), (r["expected"][name] for r in records.values())))
        for name in _second_reading.FIELDS
    ]
    applied = wrong = applied_2 = wrong_2 = 0
    sureness = []
    for line in first.read_text().splitlines():
        prediction = json.loads(line)
        outcome, record = prediction["outcome"], records[prediction["id"]]
        others_say = [reason for reason in prediction["review_reasons"] if SECOND_READING_REASON not in reason]
        truth = record["expected"]
        errors = sum(1 for f in KEY_FIELDS if not is_null(outcome.get(f)) and not same(f, truth.get(f), outcome.get(f)))
        if not others_say:
            applied, wrong = applied + 1, wrong + errors
            read = {name: outcome[name] for name in _second_reading.FIELDS}
            released = not _second_reading.likelier(read, record["transcript"], model)
        else:
            held = CallOutcome.from_json({**outcome, "review_reasons": others_say})
            released = nothing_to_correct(held, record["transcript"], model)
        if released:
            applied_2, wrong_2 = applied_2 + 1, wrong_2 + errors
            chances = [_chance(model, record["transcript"], name, outcome[name]) for name in _second_reading.FIELDS]
            sureness.append((min(chances), errors))
    return [len(records), applied, wrong, applied_2, wrong_2, *alone], sureness


def _chance(model: tuple, transcript: str, name: str, value: str) -> float:
    vectorizer, models = model
    classes = list(models[name].classes_)
    chances = models[name].predict_proba(vectorizer.transform([_second_reading.payer_speech(transcript)]))[0]
    return float(chances[classes.index(value)]) if value in classes else 0.0


def _frontier(applied: list[tuple[float, int]], calls: int) -> list[str]:
    """Calls applied and wrong values among them if the gate also held every call whose second
    reading is less sure than a floor of the status and outcome read; last, the floor at which
    nothing wrong is applied (every call as sure as the surest wrong one held too)."""

    def row(label: str, kept: list[int]) -> list[str]:
        return [label, f"{len(kept)} ({len(kept) / calls:.1%})", str(sum(kept))]

    rows = [
        row(f"below {floor:.2f}" if floor else "nothing more", [errors for sure, errors in applied if sure >= floor])
        for floor in (0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
    ]
    surest_wrong = max((sure for sure, errors in applied if errors), default=0)
    rows.append(row(f"up to {surest_wrong:.3f}", [errors for sure, errors in applied if sure > surest_wrong]))
    return table(["Also held", "Applied", "Wrong applied"], rows)


def _figures(figures: list[int]) -> list[str]:
    calls, applied, wrong, applied_2, wrong_2, status, outcome = figures
    return [
        str(calls),
        f"{applied} ({applied / calls:.1%})",
        str(wrong),
        f"{applied_2} ({applied_2 / calls:.1%})",
        str(wrong_2),
        f"{status / calls:.1%}, {outcome / calls:.1%}",
    ]


_NOTE = [
    "Each fresh corpus left out in turn: the second reading is trained on every other corpus in",
    "`ai/data/calls/` and judges the reader's first reading of the left-out one",
    "(`bench/first-readings/`, written by `extract_outcomes` when the corpus was scored once, before any",
    "fix). *Applied*: calls the gate lets through with no person looking; *wrong applied*: key values",
    "wrong among them. `.venv/bin/python bench/review_gate.py`.",
]


_FRONTIER_NOTE = [
    "How far a stricter gate goes: every call applied above, also held when the second reading is",
    "less sure than a floor of the status and outcome read (the lesser of its two chances); last, the",
    "floor at which nothing wrong is applied (every call as sure as the surest wrong one held too).",
]


if __name__ == "__main__":
    main()
