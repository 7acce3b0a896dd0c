from __future__ import annotations

import copy
import socket
from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import extract_outcome, openai_extractor, rules
from ai.outcome import CallOutcome, ClaimContext, KnowledgeHit
from ai.tests.fake_openai import FakeOpenAI

TRANSCRIPT = "\n".join(
    [
        "User: Thank you for calling Aetna Provider Services. Please say or enter your NPI.",  # 1
        "AI: 1-4-5-7-3-9-2-8-1-6.",  # 2
        "User: Thanks for calling Aetna, my name is Renee. How can I help?",  # 3
        "AI: Hi Renee, I'm checking on a claim for Denise Okafor, date of service December third, 2025.",  # 4
        "User: I have that one. It was processed and paid on the twenty-ninth of last month.",  # 5
        "AI: What was the paid amount?",  # 6
        "User: One hundred ninety-eight dollars and sixty-four cents. There's no member responsibility.",  # 7
        "User: That went out by check, check number 0-0-0-4-8-1-7-2-6-3.",  # 8
        "AI: Could I get a reference number for this call?",  # 9
        "User: Sure, your reference number is 2-6-0-1-4-7-7-3-1-8.",  # 10
        "AI: Thank you, Renee, that's everything.",  # 11
    ]
)
CLAIM = ClaimContext(
    claim_number="CLM-2025-01187",
    patient_name="Denise Okafor",
    patient_dob="1979-05-11",
    date_of_service="2025-12-03",
    billed_amount="285.00",
    payer="Aetna",
    member_id="W482019375",
    call_date=date(2026, 1, 14),
)
KNOWLEDGE = [
    KnowledgeHit(
        id="payer-policy:7",
        kind="payer_policy",
        title="Aetna — timely filing",
        text="Corrected claims must reach Aetna within 180 days of the original remittance.",
    )
]


def _field(value, *lines):
    return {"value": value, "lines": list(lines)}


PAID = {
    "claim_status": _field("paid", 5),
    "reference_number": _field("2601477318", 10),
    "rep_name": _field("Renee", 3),
    "denial_code": _field(None),
    "remark_codes": _field([]),
    "paid_amount": _field("198.64", 7),
    "check_or_eft_number": _field("0004817263", 8),
    "payment_date": _field("2025-12-29", 5),
    "follow_up_days": _field(None),
    "call_outcome": _field("resolved", 5, 7),
    "human_reached": _field(True, 3),
    "next_steps": _field("Post the payment; nothing more to do with the payer.", 5, 7),
    "confidence": 0.93,
}


def _answer(**changes):
    answer = copy.deepcopy(PAID)
    answer.update(changes)
    return answer


@pytest.fixture(scope="module")
def _server():
    # One server for the module: stopping one takes half a second.
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_server, settings):
    server = _server
    settings.OPENAI_BASE_URL = server.base_url
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_MODEL = "gpt-4o-mini"
    settings.OPENAI_TIMEOUT = 5
    settings.OPENAI_MAX_RETRIES = 2
    yield server
    server.reset()


@pytest.fixture
def offline_reader(monkeypatch):
    """The rules reader, fixed to agree with ``PAID``, for tests about the model's answer alone."""
    offline = CallOutcome(claim_status="paid", call_outcome="resolved", extractor="rules")
    monkeypatch.setattr(rules, "extract", lambda transcript, claim: copy.deepcopy(offline))
    return offline


def _assert_fell_back(outcome, reason_start):
    assert outcome.extractor == "rules (fallback)"
    assert outcome.needs_review
    assert any(reason.startswith(reason_start) for reason in outcome.review_reasons), outcome.review_reasons
    expected = rules.extract(TRANSCRIPT, CLAIM)
    assert outcome.expected_fields() == expected.expected_fields()


def test_it_reads_the_outcome_and_its_evidence(fake_openai, offline_reader):
    fake_openai.answer(PAID)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM, KNOWLEDGE)

    assert outcome.claim_status == "paid"
    assert outcome.reference_number == "2601477318"
    assert outcome.rep_name == "Renee"
    assert outcome.denial_code is None
    assert outcome.remark_codes == []
    assert outcome.paid_amount == Decimal("198.64")
    assert isinstance(outcome.paid_amount, Decimal)
    assert outcome.check_or_eft_number == "0004817263"
    assert outcome.payment_date == date(2025, 12, 29)
    assert outcome.follow_up_days is None
    assert outcome.call_outcome == "resolved"
    assert outcome.human_reached is True
    assert outcome.next_steps == "Post the payment; nothing more to do with the payer."
    assert outcome.confidence == pytest.approx(0.93)
    assert outcome.evidence == {
        "claim_status": [5],
        "reference_number": [10],
        "rep_name": [3],
        "paid_amount": [7],
        "check_or_eft_number": [8],
        "payment_date": [5],
        "call_outcome": [5, 7],
        "human_reached": [3],
        "next_steps": [5, 7],
    }
    assert outcome.extractor == "openai (gpt-4o-mini)"
    assert not outcome.needs_review
    assert outcome.review_reasons == []


def test_it_sends_the_model_the_schema_the_numbered_transcript_and_the_knowledge(fake_openai, offline_reader):
    fake_openai.answer(PAID)

    openai_extractor.extract(TRANSCRIPT, CLAIM, KNOWLEDGE)

    [request] = fake_openai.requests
    assert request["model"] == "gpt-4o-mini"
    response_format = request["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "call_outcome"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(PAID)
    assert schema["properties"]["paid_amount"]["required"] == ["value", "lines"]

    system, user = request["messages"]
    assert system["role"] == "system"
    assert "reference number" in system["content"]
    assert user["role"] == "user"
    assert "1: User: Thank you for calling Aetna Provider Services." in user["content"]
    assert "10: User: Sure, your reference number is 2-6-0-1-4-7-7-3-1-8." in user["content"]
    assert "[Aetna — timely filing]" in user["content"]
    assert "within 180 days of the original remittance" in user["content"]
    assert "CLM-2025-01187" in user["content"]
    assert "2026-01-14" in user["content"]
    # Minimum necessary: the model does not need to know who the patient is.
    assert "Okafor" not in user["content"]
    assert "1979-05-11" not in user["content"]
    assert "W482019375" not in user["content"]
    assert fake_openai.headers[0]["Authorization"] == "Bearer sk-test"


def test_it_normalises_codes_amounts_and_dates(fake_openai, offline_reader):
    fake_openai.answer(
        _answer(
            claim_status=_field("Partially Paid", 5),
            reference_number=_field("ref 2601-4773 18", 10),
            denial_code=_field("co 16", 7),
            remark_codes=_field(["n130", "N130", "MA 04"], 7),
            paid_amount=_field("$1,198.6", 7),
            check_or_eft_number=_field("eft-000481", 8),
            call_outcome=_field("action_required", 7),
        )
    )

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM, KNOWLEDGE)

    assert outcome.claim_status == "partially_paid"
    assert outcome.reference_number == "REF2601477318"
    assert outcome.denial_code == "CO-16"
    assert outcome.remark_codes == ["N130", "MA04"]
    assert outcome.paid_amount == Decimal("1198.60")
    assert str(outcome.paid_amount) == "1198.60"
    assert outcome.check_or_eft_number == "EFT000481"


def test_it_keeps_a_bare_denial_number(fake_openai, offline_reader):
    fake_openai.answer(_answer(denial_code=_field("197", 7)))

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.denial_code == "197"


def test_it_marks_an_unknown_status_unknown_and_flags_it(fake_openai, offline_reader):
    fake_openai.answer(_answer(claim_status=_field("settled", 5)))

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.claim_status == "unknown"
    assert "claim_status" not in outcome.evidence
    assert outcome.needs_review
    assert "The AI model's claim status could not be used ('settled' is not one we know)." in outcome.review_reasons


def test_it_drops_values_it_cannot_parse(fake_openai, offline_reader):
    fake_openai.answer(
        _answer(
            paid_amount=_field("about two hundred", 7),
            payment_date=_field("12/29/2025", 5),
            denial_code=_field("N130", 7),
            follow_up_days=_field(-3, 5),
        )
    )

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.paid_amount is None
    assert outcome.payment_date is None
    assert outcome.denial_code is None
    assert outcome.follow_up_days is None
    assert outcome.reference_number == "2601477318"
    assert len(outcome.review_reasons) == 4


def test_it_drops_a_value_without_evidence_lines(fake_openai, offline_reader):
    fake_openai.answer(_answer(reference_number=_field("7731AB"), paid_amount=_field("198.64", 0, 42)))

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.reference_number is None
    assert outcome.paid_amount is None
    assert "reference_number" not in outcome.evidence
    assert "paid_amount" not in outcome.evidence
    assert outcome.needs_review
    assert (
        "The AI model's reference number was not backed by any line of the call; it was left out."
        in outcome.review_reasons
    )
    assert outcome.check_or_eft_number == "0004817263"


def test_it_leaves_a_reference_number_the_cited_line_does_not_state_to_grounding(fake_openai):
    # The model cites a real line, but the number on it is not the one it gives.
    fake_openai.answer(_answer(reference_number=_field("9918273645", 10)))

    outcome = extract_outcome(TRANSCRIPT, CLAIM, KNOWLEDGE, extractor="openai")

    assert outcome.reference_number is None
    assert "reference_number" not in outcome.evidence
    assert outcome.needs_review
    assert len(outcome.review_reasons) == 1
    assert outcome.paid_amount == Decimal("198.64")
    assert outcome.check_or_eft_number == "0004817263"


def test_it_gives_extract_outcome_a_grounded_outcome_the_rules_reader_agrees_with(fake_openai):
    fake_openai.answer(PAID)

    outcome = extract_outcome(TRANSCRIPT, CLAIM, KNOWLEDGE, extractor="openai")

    assert outcome.extractor == "openai (gpt-4o-mini)"
    assert outcome.expected_fields() == {
        "claim_status": "paid",
        "reference_number": "2601477318",
        "rep_name": "Renee",
        "denial_code": None,
        "remark_codes": [],
        "paid_amount": "198.64",
        "check_or_eft_number": "0004817263",
        "payment_date": "2025-12-29",
        "follow_up_days": None,
        "call_outcome": "resolved",
        "human_reached": True,
    }
    assert outcome.knowledge_used == ["payer-policy:7"]
    assert not outcome.needs_review


def test_it_gives_no_follow_up_days_unless_the_outcome_is_a_follow_up(fake_openai, offline_reader):
    fake_openai.answer(_answer(follow_up_days=_field(14, 7)))

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.call_outcome == "resolved"
    assert outcome.follow_up_days is None
    assert "follow_up_days" not in outcome.evidence


def test_it_flags_a_disagreement_with_the_rules_reader_and_keeps_the_model_value(
    fake_openai, offline_reader, monkeypatch
):
    offline = CallOutcome(claim_status="denied", call_outcome="action_required", extractor="rules")
    monkeypatch.setattr(rules, "extract", lambda transcript, claim: copy.deepcopy(offline))
    fake_openai.answer(PAID)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.claim_status == "paid"
    assert outcome.call_outcome == "resolved"
    assert outcome.needs_review
    assert outcome.review_reasons == [
        "The AI and the offline reader disagree on the claim status (paid vs denied).",
        "The AI and the offline reader disagree on the call outcome (resolved vs action_required).",
    ]


def test_it_takes_the_rules_call_outcome_when_the_model_gives_an_unknown_one(fake_openai, offline_reader):
    fake_openai.answer(_answer(call_outcome=_field("done", 7)))

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert outcome.call_outcome == "resolved"  # the offline reader's
    assert outcome.needs_review


def test_it_retries_a_rate_limit_and_succeeds(fake_openai, offline_reader):
    fake_openai.fail(429, "Rate limit reached", retry_after_ms=10)
    fake_openai.answer(PAID)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert len(fake_openai.requests) == 2
    assert outcome.extractor == "openai (gpt-4o-mini)"
    assert outcome.reference_number == "2601477318"
    assert not outcome.needs_review


def test_it_falls_back_to_the_rules_reader_after_server_errors(fake_openai):
    fake_openai.fail(500, "The server had an error", retry_after_ms=10)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert len(fake_openai.requests) == 3  # the first try and two retries
    _assert_fell_back(outcome, "The AI service returned an error (HTTP 500)")


def test_it_falls_back_to_the_rules_reader_after_timeouts(fake_openai, settings):
    settings.OPENAI_TIMEOUT = 0.2
    settings.OPENAI_MAX_RETRIES = 1
    fake_openai.stall(5)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    assert len(fake_openai.requests) == 2
    _assert_fell_back(outcome, "The AI service did not answer in time")


def test_it_falls_back_when_the_service_cannot_be_reached(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_MAX_RETRIES = 0

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI service could not be reached")


def test_it_falls_back_without_an_api_key(settings):
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_API_KEY = ""

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI service is not set up")


def test_it_falls_back_when_the_answer_is_not_json(fake_openai):
    fake_openai.answer('{"claim_status": {"value": "paid", "lines": [5]')

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI model's answer was not valid JSON")


@pytest.mark.parametrize(
    "content",
    [
        {key: value for key, value in PAID.items() if key != "paid_amount"},
        _answer(paid_amount="198.64"),
        _answer(claim_status={"value": "paid", "lines": ["5"]}),
        _answer(confidence="high"),
        ["paid"],
    ],
    ids=["missing-field", "bare-value", "text-line-number", "text-confidence", "not-an-object"],
)
def test_it_falls_back_when_the_answer_does_not_follow_the_schema(fake_openai, content):
    fake_openai.answer(content)

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI model's answer did not follow the expected form")


def test_it_falls_back_when_the_model_refuses(fake_openai):
    fake_openai.answer("", refusal="I can't help with that.")

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI model declined to read this call")


def test_it_falls_back_when_the_answer_is_cut_short(fake_openai):
    fake_openai.answer('{"claim_status": {"value": "pa', finish_reason="length")

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI model's answer was cut short")


def test_it_falls_back_when_the_service_answers_with_a_web_page(fake_openai):
    fake_openai.page("<html><body>Sign in to continue</body></html>")

    outcome = openai_extractor.extract(TRANSCRIPT, CLAIM)

    _assert_fell_back(outcome, "The AI service sent an answer that is not a chat completion")


def test_the_models_outcome_goes_through_the_review_gate_too(fake_openai):
    # the model calls the payment a partial one; the payer said no member responsibility
    fake_openai.answer(_answer(claim_status=_field("partially_paid", 5), call_outcome=_field("resolved", 5, 7)))

    outcome = extract_outcome(TRANSCRIPT, CLAIM, extractor="openai")

    assert outcome.extractor == "openai (gpt-4o-mini)"
    assert outcome.claim_status == "partially_paid"
    assert outcome.needs_review
    assert any(
        "read as partially paid, but calls worded like this one usually mean paid" in reason
        for reason in outcome.review_reasons
    )
