"""Retrieval quality of the local embedding on the starter denial codes.

Fifteen questions as a biller would put them, each labelled with the reason codes that
answer it. Measured with the int8 MiniLM (``ai.embeddings.LocalEmbedding``) over the 48
starter codes: recall@3 = 15/15 = 1.00 (recall@1 15/15; 14/15 when the remedy is left out
of the embedded text). The test holds it to ≥ 0.85 so a small change to the starter wording
does not fail it, while a broken embedding (random or constant vectors find ≈ 1 in 15)
clearly does.
"""

from __future__ import annotations

import pytest

from billingpulse.tests.factories import PracticeFactory

# query → the codes that are a right answer (any one of them in the top 3 counts)
LABELLED = {
    "missing modifier": {"4"},
    "patient not eligible on date of service": {"27", "26", "31"},
    "duplicate submission": {"18"},
    "needs prior authorization": {"197", "15"},
    "timely filing limit passed": {"29"},
    "other insurance should pay first": {"22"},
    "not medically necessary": {"50"},
    "bundled into another procedure": {"97", "234"},
    "patient's deductible": {"1"},
    "payer wants medical records": {"226", "252"},
    "member ID does not match the name": {"140", "31"},
    "wrong place of service": {"5"},
    "provider not credentialed with the plan": {"185", "B7", "170"},
    "coverage terminated before the visit": {"27"},
    "more units than the authorization allowed": {"198"},
}
THRESHOLD = 0.85


@pytest.mark.django_db(transaction=True)
def test_it_finds_the_right_denial_code_in_the_top_three(knowledge_index):
    practice = PracticeFactory()  # brings the starter set; indexed when its transaction commits
    found = 0
    misses = []
    for query, expected in LABELLED.items():
        hits = knowledge_index.search(practice.pk, knowledge_index.DENIAL_CODES, query, limit=3)
        codes = [hit.title.removeprefix("Reason code ") for hit in hits]
        if expected & set(codes):
            found += 1
        else:
            misses.append(f"{query!r} → {codes}, wanted one of {sorted(expected)}")
    recall = found / len(LABELLED)
    print(f"recall@3 = {found}/{len(LABELLED)} = {recall:.2f}; misses: {misses}")
    assert recall >= THRESHOLD, misses
