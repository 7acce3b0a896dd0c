"""Write predictions for a labelled transcript corpus (format in the corpus's SCHEMA.md).

    manage.py extract_outcomes CORPUS.jsonl --out PREDICTIONS.jsonl [--extractor rules|openai]

One ``{"id": ..., "outcome": {...}, "needs_review": ..., "review_reasons": [...]}`` line per
call, under the corpus's ``expected`` field names, ready for the corpus's ``score_outcomes.py``.
The review flags are the pipeline's (``CallOutcome.settle_review``): a corpus call has no
telephony status, so one "reached nobody" when the reader found no human and nothing obtained.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai.extraction import EXTRACTORS, extract_outcome
from ai.outcome import ClaimContext


class Command(BaseCommand):
    help = "Extract call outcomes for every call in a transcript corpus (JSON lines) and write predictions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", help="corpus file, one JSON call record per line")
        parser.add_argument("--out", required=True, help="where to write the predictions (JSON lines)")
        parser.add_argument("--extractor", choices=EXTRACTORS, default=None, help="default: settings")

    def handle(self, *args, corpus: str, out: str, extractor: str | None, **options) -> None:
        records = read_corpus(Path(corpus))
        with Path(out).open("w", encoding="utf-8") as f:
            for record in records:
                claim = ClaimContext.from_record(record.get("claim") or {}, record.get("call_date"))
                outcome = extract_outcome(record["transcript"], claim, extractor=extractor)
                outcome.settle_review(reached_nobody=not outcome.human_reached and outcome.call_outcome == "failed")
                line = {
                    "id": record["id"],
                    "outcome": outcome.expected_fields(),
                    "needs_review": outcome.needs_review,
                    "review_reasons": outcome.review_reasons,
                }
                f.write(json.dumps(line) + "\n")
        self.stdout.write(f"Wrote {len(records)} predictions to {out}")


def read_corpus(path: Path) -> list[dict]:
    """The corpus's call records; a CommandError names the file or line that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"Corpus file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Corpus file {path} cannot be read: {exc}") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path} line {number} is not valid JSON: {exc.msg}.") from None
        if not isinstance(record, dict) or not record.get("id") or not isinstance(record.get("transcript"), str):
            raise CommandError(f'{path} line {number} needs an "id" and a "transcript" string.')
        if record.get("claim") is not None and not isinstance(record["claim"], dict):
            raise CommandError(f'{path} line {number}: "claim" must be an object.')
        try:
            ClaimContext.from_record(record.get("claim") or {}, record.get("call_date"))
        except (TypeError, ValueError):
            raise CommandError(f'{path} line {number}: "call_date" must be a date like 2026-03-14.') from None
        records.append(record)
    return records
