from __future__ import annotations

import logging
from datetime import date

import pytest

from ai import knowledge, services, tasks
from ai.knowledge import DENIAL_CODES, PAYER_POLICIES, normalize_code, search_for_call
from ai.models import DenialCode, PayerPolicy
from ai.tests.factories import PayerPolicyFactory
from billingpulse.tests.factories import PracticeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed(knowledge_index, django_capture_on_commit_callbacks):
    """Run the index updates a block schedules, as its commit would."""

    def run(block):
        with django_capture_on_commit_callbacks(execute=True):
            return block()

    return run


def _ids(hits):
    return [hit.id for hit in hits]


@pytest.mark.parametrize(
    ("raw", "code"),
    [("CO-16", "16"), ("co 16", "16"), ("PR-1", "1"), ("OA:23", "23"), (" 197 ", "197"), ("B7", "B7"), ("PI-B9", "B9")],
)
def test_it_strips_the_group_from_a_code(raw, code):
    assert normalize_code(raw) == code


def test_it_gives_a_new_practice_the_starter_set_and_indexes_it_after_commit(indexed):
    practice = indexed(PracticeFactory)

    codes = set(DenialCode.objects.filter(practice=practice).values_list("code", flat=True))
    assert {"1", "16", "29", "97", "197", "B7"} <= codes
    assert len(codes) == len(services.starter_entries())
    assert knowledge.collection(DENIAL_CODES).count() == len(codes)


def test_it_never_sends_x12_text_only_our_own_words():
    # Spot checks against phrases of the official descriptions, which are X12's copyright.
    text = " ".join(entry["description"] for entry in services.starter_entries()).lower()
    assert "claim/service lacks information" not in text
    assert "this (these) service(s)" not in text


def test_it_finds_the_claims_denial_code_first_then_the_payers_policy(indexed):
    practice = indexed(PracticeFactory)
    policy = indexed(
        lambda: services.save_entries(
            practice.pk,
            PAYER_POLICIES,
            [
                {"payer": "Aetna", "title": "Prior authorization", "text": "MRI and CT need authorization before."},
                {"payer": "Cigna", "title": "Prior authorization", "text": "Imaging needs authorization first."},
            ],
        )[0]
    )

    hits = search_for_call(practice.pk, denial_code="CO-197", payer="aetna", limit=4)

    code_197 = DenialCode.objects.get(practice=practice, code="197")
    assert hits[0].id == f"denial-code:{code_197.pk}"
    assert hits[0].kind == "denial_code"
    assert hits[0].title == "Reason code 197"
    assert "Usual remedy" in hits[0].text
    assert hits[1].id == f"payer-policy:{policy.pk}"
    assert hits[1].title == "Aetna — Prior authorization"
    assert all("Cigna" not in hit.title for hit in hits)
    assert len(hits) <= 4


def test_it_matches_the_payer_by_payer_id_too(indexed):
    practice = indexed(PracticeFactory)
    policy = indexed(lambda: PayerPolicyFactory(practice=practice, payer="60054", title="Filing limit"))
    indexed(lambda: knowledge.sync(PAYER_POLICIES, [policy.pk]))

    hits = search_for_call(practice.pk, denial_code="29", payer="Aetna Better Health", payer_id="60054")

    assert f"payer-policy:{policy.pk}" in _ids(hits)


def test_it_never_returns_another_practices_entries(indexed):
    practice, other = indexed(PracticeFactory), indexed(PracticeFactory)
    theirs = indexed(
        lambda: services.save_entries(other.pk, PAYER_POLICIES, [{"payer": "Aetna", "text": "Appeals within 60 days."}])
    )

    hits = search_for_call(practice.pk, denial_code="16", payer="Aetna")
    found = knowledge.search(practice.pk, DENIAL_CODES, "authorization", limit=50)

    assert f"payer-policy:{theirs[0].pk}" not in _ids(hits)
    mine = {f"denial-code:{pk}" for pk in DenialCode.objects.filter(practice=practice).values_list("pk", flat=True)}
    assert set(_ids(hits)) - {f"payer-policy:{p.pk}" for p in PayerPolicy.objects.filter(practice=practice)} <= mine
    assert set(_ids(found)) <= mine


def test_it_gives_a_status_call_the_payers_newest_policies(indexed):
    practice = indexed(PracticeFactory)
    old = PayerPolicyFactory(practice=practice, payer="Aetna", effective_date=date(2024, 1, 1))
    new = PayerPolicyFactory(practice=practice, payer="AETNA", effective_date=date(2026, 1, 1))
    PayerPolicyFactory(practice=practice, payer="Cigna")

    hits = search_for_call(practice.pk, denial_code=None, payer="Aetna", limit=4)

    assert _ids(hits) == [f"payer-policy:{new.pk}", f"payer-policy:{old.pk}"]


def test_it_returns_the_exact_matches_when_chroma_is_unavailable(indexed, settings, caplog):
    practice = indexed(PracticeFactory)
    policy = PayerPolicyFactory(practice=practice, payer="Aetna")
    settings.CHROMA_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    knowledge.reset_clients()

    with caplog.at_level(logging.WARNING, logger="ai.knowledge"):
        hits = search_for_call(practice.pk, denial_code="CO-16", payer="Aetna")

    code_16 = DenialCode.objects.get(practice=practice, code="16")
    assert _ids(hits) == [f"denial-code:{code_16.pk}", f"payer-policy:{policy.pk}"]
    assert "Knowledge search unavailable" in caplog.text


def test_it_answers_nothing_for_an_unknown_code_without_payer_policies(indexed):
    practice = indexed(PracticeFactory)

    assert search_for_call(practice.pk, denial_code="999", payer="Nobody") == []
    assert search_for_call(practice.pk, denial_code="16", payer="", limit=0) == []


def test_it_keeps_the_index_in_step_with_changes_and_deletes(indexed):
    practice = indexed(PracticeFactory)
    [entry] = indexed(
        lambda: services.save_entries(practice.pk, DENIAL_CODES, [{"code": "16", "description": "Changed wording."}])
    )
    stored = knowledge.collection(DENIAL_CODES).get(ids=[f"denial-code:{entry.pk}"], include=["documents", "metadatas"])
    assert "Changed wording." in stored["documents"][0]
    assert stored["metadatas"][0] == {"practice_id": practice.pk, "code": "16"}

    indexed(lambda: services.delete_entry(entry))

    assert knowledge.collection(DENIAL_CODES).get(ids=[f"denial-code:{entry.pk}"])["ids"] == []


def test_it_leaves_the_database_change_when_the_index_fails(indexed, settings):
    practice = indexed(PracticeFactory)
    settings.CHROMA_URL = "http://127.0.0.1:9"
    knowledge.reset_clients()

    # The worker's index update fails (and is retried); the saved entry stays.
    with pytest.raises(Exception):  # noqa: B017 - whatever Chroma's client raises when its server is away
        indexed(
            lambda: services.save_entries(practice.pk, PAYER_POLICIES, [{"payer": "Aetna", "text": "Fax appeals."}])
        )

    assert PayerPolicy.objects.filter(practice=practice, text="Fax appeals.").exists()


def test_saving_queues_the_index_update_for_the_worker_after_commit(
    knowledge_index, django_capture_on_commit_callbacks
):
    practice = PracticeFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        [policy] = services.save_entries(practice.pk, PAYER_POLICIES, [{"payer": "Aetna", "text": "Fax appeals."}])

    [update] = callbacks
    assert update.func == tasks.sync_index.delay
    assert update.args == (PAYER_POLICIES, [policy.pk])


def test_it_rebuilds_the_index_from_the_database(indexed):
    practice, other = indexed(PracticeFactory), indexed(PracticeFactory)
    knowledge.collection(DENIAL_CODES).delete(where={"practice_id": practice.pk})
    knowledge.collection(PAYER_POLICIES).upsert(
        ids=["payer-policy:999999"], documents=["stale"], metadatas=[{"practice_id": practice.pk}]
    )

    counts = knowledge.reindex(practice.pk)

    starter = len(services.starter_entries())
    assert counts == {DENIAL_CODES: starter, PAYER_POLICIES: 0}
    assert knowledge.collection(DENIAL_CODES).count() == 2 * starter
    assert knowledge.collection(PAYER_POLICIES).count() == 0
    assert knowledge.reindex() == {DENIAL_CODES: 2 * starter, PAYER_POLICIES: 0}
    assert other.pk  # the other practice's entries survived the per-practice rebuild (count above)


def test_it_keeps_collections_of_different_embeddings_apart(knowledge_index, settings):
    local = knowledge.collection_name(DENIAL_CODES)
    settings.EMBEDDINGS = "openai"
    settings.OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"

    assert local == "bp-denial-codes-minilm"
    assert knowledge.collection_name(DENIAL_CODES) == "bp-denial-codes-openai-text-embedding-3-small"


def test_it_ranks_the_payers_policy_about_the_denial_above_its_other_policies(indexed):
    practice = indexed(PracticeFactory)
    filing, auth = indexed(
        lambda: services.save_entries(
            practice.pk,
            PAYER_POLICIES,
            [
                {
                    "payer": "Aetna",
                    "title": "Timely filing",
                    "text": "Corrected claims within 180 days of the remittance.",
                },
                {"payer": "60054", "title": "Prior authorization", "text": "MRI and CT need authorization before."},
            ],
        )
    )

    hits = search_for_call(practice.pk, denial_code="CO-197", payer="Aetna", payer_id="60054")

    policies = [hit.id for hit in hits if hit.kind == PAYER_POLICIES]
    assert policies == [f"payer-policy:{auth.pk}", f"payer-policy:{filing.pk}"]


def test_it_adds_a_closely_related_denial_code(indexed):
    practice = indexed(PracticeFactory)

    hits = search_for_call(practice.pk, denial_code="PR-27", payer="Nobody")

    assert [hit.title for hit in hits] == ["Reason code 27", "Reason code 26"]
