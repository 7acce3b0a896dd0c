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
    rows, totals = [], [0] * 7
    for first in sorted(FIRST_READINGS.glob("*.jsonl")):
        figures = measure(CORPORA / first.name, first)
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
    say("\n".join(lines))
    if not args.no_results:
        title = "The review gate's second reading on calls it had not learned (D)"
        write_section("review_gate", title, [*_NOTE, "", *lines])


def measure(corpus: Path, first: Path) -> list[int]:
    """Calls; applied and wrong applied without and with a second reading trained without ``corpus``;
    the calls whose status, and whose outcome, that reading alone gets right."""
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
    return [len(records), applied, wrong, applied_2, wrong_2, *alone]


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


if __name__ == "__main__":
    main()
