"""A second reading of a call, learned from labelled calls, for the review gate.

The rules read what a call established; this reading only says how calls worded like it were
labelled. It is a logistic regression per field over word n-grams (one to three words, TF-IDF
weighted) of everything the payer said, trained on the labelled corpora in ``ai/data/calls/``.
It sets no value: when it finds another claim status or call outcome at least ``MARGIN`` times
likelier than the one read, the call goes to a person with both readings (``_checks``). When a
person answered but the call gave no status, and this reading too hears a call that established
nothing, or agrees with a call held only for a reference it could not parse, the two readings
agree there is nothing for a person to correct.

Trained once per process (about a second for some 1,700 calls): on first use, or as a Celery
worker process starts (``warm_up``), so that the first call's outcome does not wait for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path

from ai.extraction._transcript import payer_speech

CORPORA = Path(__file__).resolve().parent.parent / "data" / "calls"
FIELDS = ("claim_status", "call_outcome")
# How much likelier another value must be than the one read before the call is held. Chosen on
# the fresh corpora, each read by a model trained without it (bench/RESULTS.md, section D).
MARGIN = 2.0
# Values that only say the call established nothing: a reading that hears nothing in the call
# is no evidence against a status the rules heard (long phone menus sound like calls that failed).
NO_READING = {"unknown", "failed"}

_lock = threading.Lock()
_trained: tuple | None = None


def train(records: list[dict]) -> tuple:
    """A vectoriser and a model per field, from corpus records (``transcript`` and ``expected``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform([payer_speech(r["transcript"]) for r in records])
    models = {
        # newton-cg: the same fit as the default solver reaches, in a fifth of the time
        name: LogisticRegression(C=10, solver="newton-cg", max_iter=3000).fit(
            features, [r["expected"][name] for r in records]
        )
        for name in FIELDS
    }
    return vectorizer, models


def load_corpora(paths: Iterable[Path] | None = None) -> list[dict]:
    """The records of the labelled corpora (all of ``CORPORA`` unless ``paths`` are given)."""
    paths = sorted(CORPORA.glob("*.jsonl")) if paths is None else paths
    return [json.loads(line) for path in paths for line in Path(path).read_text().splitlines() if line.strip()]


def warm_up() -> None:
    """Train the model in the background now, rather than when the first call is read."""
    threading.Thread(target=_model, name="second-reading-warm-up", daemon=True).start()


def _model() -> tuple:
    global _trained
    with _lock:
        if _trained is None:
            _trained = train(load_corpora())
        return _trained


def likelier(values: dict[str, str], transcript: str, model: tuple | None = None) -> dict[str, str]:
    """For each field of ``values`` (as read), the value this reading finds ``MARGIN`` times likelier."""
    vectorizer, models = model or _model()
    features = vectorizer.transform([payer_speech(transcript)])
    if not features.nnz:
        return {}  # the payer said nothing it knows: no reading at all, not a guess from the label counts
    found = {}
    for name, value in values.items():
        classes = list(models[name].classes_)
        chances = models[name].predict_proba(features)[0]
        best = classes[chances.argmax()]
        if best in NO_READING:
            continue
        if best != value and (value not in classes or chances.max() >= MARGIN * chances[classes.index(value)]):
            found[name] = str(best)
    return found


def heard(transcript: str, model: tuple | None = None) -> bool:
    """Whether the payer said anything this reading knows (without it, it has no reading)."""
    vectorizer, _ = model or _model()
    return bool(vectorizer.transform([payer_speech(transcript)]).nnz)


def established_nothing(transcript: str, model: tuple | None = None) -> bool:
    """Whether this reading, too, hears a call that gave no status: the payer said something it
    knows, and no status or outcome is ``MARGIN`` times likelier than "unknown" and "failed"."""
    return heard(transcript, model) and not likelier(
        {"claim_status": "unknown", "call_outcome": "failed"}, transcript, model
    )
