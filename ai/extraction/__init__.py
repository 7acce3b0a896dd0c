"""Outcome extraction: one function, two extractors chosen by settings.

``extract_outcome(transcript, claim, knowledge)`` returns a grounded ``CallOutcome`` (see
``ai.grounding``) and held for a person when it fails a consistency check (``_checks``):
``rules`` reads the transcript offline (no data leaves the machine); ``openai`` asks an
OpenAI-compatible model for structured output and falls back to ``rules`` (flagged for
review) when the model cannot be reached. ``settings.OUTCOME_EXTRACTOR`` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from ai.outcome import NO_STATUS, CallOutcome, ClaimContext, KnowledgeHit

EXTRACTORS = ("rules", "openai")


def extract_outcome(
    transcript: str,
    claim: ClaimContext,
    knowledge: Sequence[KnowledgeHit] = (),
    *,
    extractor: str | None = None,
) -> CallOutcome:
    name = extractor or settings.OUTCOME_EXTRACTOR
    if name == "openai":
        from ai.extraction import openai_extractor

        outcome = openai_extractor.extract(transcript, claim, knowledge)
    elif name == "rules":
        from ai.extraction import rules

        outcome = rules.extract(transcript, claim)
    else:
        raise ValueError(f"Unknown outcome extractor {name!r}; use one of {', '.join(EXTRACTORS)}.")
    if outcome.extractor.startswith("openai"):
        # Every entry was in the model's prompt.
        outcome.knowledge_used = [hit.id for hit in knowledge]
    else:
        add_usual_remedy(outcome, knowledge)
    # Whichever extractor answered, a value the transcript does not state is not kept.
    # (Imported here: ai.grounding uses ai.extraction.spoken, which loads this package.)
    from ai.extraction._checks import nothing_to_correct, review_reasons
    from ai.grounding import ground

    outcome = ground(outcome, transcript, claim.call_date)
    for reason in review_reasons(outcome, transcript, claim):
        outcome.flag(reason)
        outcome.confidence = round(max(0.1, outcome.confidence - 0.1), 2)
    if nothing_to_correct(outcome, transcript):
        notes = [reason for reason in outcome.review_reasons if reason != NO_STATUS]
        outcome.next_steps = " ".join([outcome.next_steps, *notes]).strip()
        outcome.needs_review, outcome.review_reasons = False, []
    return outcome


def add_usual_remedy(outcome: CallOutcome, knowledge: Sequence[KnowledgeHit]) -> None:
    """The offline reader's use of the knowledge base: the usual remedy for the denial it heard.

    When the practice has to act on a denial, the remedy from the denial code's entry is added
    to the next steps, and that entry is recorded as used.
    """
    if not outcome.denial_code or outcome.call_outcome != "action_required":
        return
    code = outcome.denial_code.rsplit("-", 1)[-1]
    for hit in knowledge:
        if hit.kind == "denial_code" and hit.code == code and hit.remedy:
            outcome.next_steps = f"{outcome.next_steps} Usual fix for {code}: {hit.remedy}".strip()
            outcome.knowledge_used = [hit.id]
            return
