from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billingpulse.tests.factories import PatientFactory
from claims.tests.factories import ClaimFactory, PayerFactory
from telephony.models import Call
from telephony.tests.factories import CallEventFactory, CallFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
STARTED = datetime(2026, 11, 20, 16, 0, 5, tzinfo=UTC)
MESSAGES = [
    {"role": "system", "message": "You call payers about claims.", "time": 0, "secondsFromStart": 0},
    {
        "role": "user",
        "message": "Thank you for calling Aetna. For claims, press 2.",
        "secondsFromStart": 0.4,
        "duration": 3000,
    },
    {
        "role": "tool_calls",
        "message": "",
        "secondsFromStart": 5.1,
        "toolCalls": [
            {"id": "c1", "type": "function", "function": {"name": "dtmf", "arguments": json.dumps({"keys": "2"})}}
        ],
    },
    {"role": "tool_call_result", "toolCallId": "c1", "name": "dtmf", "result": "Sent.", "secondsFromStart": 5.4},
    {"role": "user", "message": "Please hold for a representative.", "secondsFromStart": 7.0, "duration": 2000},
    {
        "role": "user",
        "message": "Thanks for holding, my name is Renee. Who am I speaking with?",
        "secondsFromStart": 610.5,
        "duration": 4000,
    },
    {
        "role": "bot",
        "message": "Hi Renee, I'm calling about claim RB-24017.",
        "secondsFromStart": 616.0,
        "duration": 3000,
        "source": "",
    },
    {"role": "user", "message": "That claim was paid on November 1st.", "secondsFromStart": 640.2, "duration": 3000},
]


@pytest.fixture
def call(practice, owner):
    payer = PayerFactory(practice=practice, name="Aetna", phone="+18005550142")
    patient = PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")
    claim = ClaimFactory(practice=practice, patient=patient, payer=payer, claim_number="RB-24017")
    return CallFactory(
        practice=practice,
        claim=claim,
        status=Call.Status.ENDED,
        started_by=owner,
        started_at=STARTED,
        ended_at=datetime(2026, 11, 20, 16, 11, 0, tzinfo=UTC),
        duration_seconds=655,
        cost=Decimal("0.8513"),
        ended_reason="assistant-ended-call",
        messages=MESSAGES,
        transcript=(
            "User: Thanks for holding, my name is Renee.\nUser: Okay, your reference number is 2-6-0-1-4-7-7-3-1-8."
        ),
        summary="Renee at Aetna confirmed claim RB-24017 was paid.",
        recording_url="https://storage.vapi.ai/abc-mono.wav",
        outcome={
            "claim_status": "paid",
            "reference_number": "2601477318",
            "paid_amount": "198.64",
            "follow_up_days": None,
            "call_outcome": "resolved",
            "evidence": {"reference_number": [2], "rep_name": [1], "claim_status": [99]},
            "extractor": "rules",
            "knowledge_used": ["denial-code:16"],
        },
    )


def _url(call) -> str:
    return f"/calls/{call.pk}/"


def test_it_shows_the_call(owner_client, call):
    CallEventFactory(call=call, kind="end-of-call-report", payload={"message": {"endedReason": "assistant-ended-call"}})
    body = owner_client.get(_url(call)).content.decode()

    for text in [
        "RB-24017",
        "Aetna",
        "(800) 555-0142",
        "started by Alice Admin",
        "10:55",  # duration
        "$0.85",
        "assistant-ended-call",
        "Renee at Aetna confirmed claim RB-24017 was paid.",
        "https://storage.vapi.ai/abc-mono.wav",
        "end-of-call-report",
    ]:
        assert text in body


def test_it_shows_the_transcript_by_speaker(owner_client, call):
    page = owner_client.get(_url(call)).content.decode()
    body = page[page.index('id="transcript-title"') :]  # the outcome's evidence above quotes some lines too

    assert "You call payers about claims." not in body  # the prompt is not part of the conversation
    menu = body.index("Thank you for calling Aetna. For claims, press 2.")
    assert "Phone menu" in body[menu - 300 : menu]
    assert "Pressed 2" in body
    assert "On hold about 10 minutes" in body
    renee = body.index("Thanks for holding, my name is Renee.")
    assert "turn-representative" in body[renee - 300 : renee] and ">Renee<" in body[renee - 300 : renee]
    agent = body.index("Hi Renee, I&#x27;m calling about claim RB-24017.")
    assert "turn-agent" in body[agent - 300 : agent]
    assert "10:16" in body  # the agent's line, 616 s after the start
    assert '<span class="turn-time">0:00</span>' in body


def test_it_splits_a_plain_transcript_when_there_are_no_messages(owner_client, call):
    call.messages = []
    call.transcript = "User: Provider services, this is Marcus.\nAI: Hi Marcus, I'm calling about a claim.\n"
    call.save()

    body = owner_client.get(_url(call)).content.decode()

    assert "Provider services, this is Marcus." in body
    assert "turn-representative" in body and "turn-agent" in body


def test_it_shows_the_outcome_with_its_evidence(owner_client, call):
    body = owner_client.get(_url(call)).content.decode()

    for text in ["Claim status", "Paid", "Call reference #", "2601477318", "$198.64", "Resolved"]:
        assert text in body
    evidence = body[body.index("Evidence") :]
    assert "your reference number is 2-6-0-1-4-7-7-3-1-8" in evidence
    assert "my name is Renee" in evidence
    assert "Call back in" not in body  # empty fields are left out
    assert "Read by rules with 1 knowledge-base entry" in body
    assert "Claim status</span>" not in evidence  # its evidence points past the transcript


def test_it_says_when_the_outcome_comes(owner_client, call):
    call.outcome = {}
    call.save()

    assert b"The outcome is extracted after the call ends." in owner_client.get(_url(call)).content


def test_it_explains_an_unanswered_call(owner_client, call):
    call.messages, call.transcript, call.failure_category = [], "", "no_answer"
    call.ended_reason = "customer-did-not-answer"
    call.save()

    body = owner_client.get(_url(call)).content.decode()

    assert "No answer or busy" in body
    assert "Nobody answered" in body


def test_it_shows_teammates_the_call(teammate_client, call):
    assert teammate_client.get(_url(call)).status_code == 200


def test_it_hides_another_practices_call(outsider_client, call):
    assert outsider_client.get(_url(call)).status_code == 404


def test_it_answers_404_for_an_unknown_call(owner_client, call):
    assert owner_client.get(f"/calls/{call.pk + 1000}/").status_code == 404


def test_it_only_answers_get(owner_client, call):
    assert owner_client.post(_url(call)).status_code == 405


def test_it_redirects_anonymous_visitors_to_sign_in(client, call):
    response = client.get(_url(call))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_polls_while_the_call_is_active(owner_client, call):
    call.status = Call.Status.RINGING
    call.save()

    response = owner_client.get(_url(call), headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="call-live"')
    assert "<html" not in body
    assert 'hx-trigger="every 3s"' in body
    assert "The transcript appears here when the call ends." not in body  # it has messages already


def test_it_stops_polling_when_the_call_is_over(owner_client, call):
    response = owner_client.get(_url(call), headers=HTMX)

    assert response.status_code == 286
    body = response.content.decode()
    assert 'id="call-live"' in body and "<html" not in body
    assert "Thanks for holding, my name is Renee." in body
    assert "every 3s" not in body


def test_it_marks_a_sandbox_call(owner_client, call):
    body = owner_client.get(_url(call)).content.decode()

    assert "A simulated call" in body


def test_it_lists_the_other_calls_about_the_claim(owner_client, call):
    earlier = CallFactory(
        practice=call.practice, claim=call.claim, status=Call.Status.ENDED, failure_category="voicemail"
    )

    body = owner_client.get(_url(call)).content.decode()

    assert f'href="/calls/{earlier.pk}/"' in body
    assert "Reached voicemail" in body


def test_it_keeps_polling_until_the_report_arrives(owner_client, call):
    call.messages, call.transcript, call.summary, call.status_changed_at = [], "", "", timezone.now()
    call.save()

    response = owner_client.get(_url(call), headers=HTMX)

    assert response.status_code == 200
    assert "The transcript comes with the call report" in response.content.decode()

    call.report_received_at = timezone.now()
    call.save()

    assert owner_client.get(_url(call), headers=HTMX).status_code == 286


def test_it_shows_a_queued_call_as_queued_not_as_ended(owner_client, practice, call):
    practice.time_zone = "America/New_York"
    practice.save()
    queued = CallFactory(practice=practice, claim=call.claim, status=Call.Status.QUEUED, provider_call_id=None)
    Call.objects.filter(pk=queued.pk).update(created_at=datetime(2026, 11, 20, 15, 0, 0, tzinfo=UTC))

    body = owner_client.get(_url(queued)).content.decode()

    assert "Queued since Nov 20, 10:00:00 AM" in body  # 15:00 UTC in New York
    assert "<dt>Ended</dt>" not in body
    assert "Under way" not in body
    assert "Ended because" not in body


def test_it_shows_when_a_call_under_way_started_and_no_end(owner_client, practice, call):
    practice.time_zone = "America/New_York"
    practice.save()
    call.status, call.ended_at, call.ended_reason = Call.Status.IN_PROGRESS, None, ""
    call.save()

    body = owner_client.get(_url(call)).content.decode()

    assert "<dt>Started</dt><dd>Nov 20, 11:00:05 AM" in body
    assert "<dt>Ended</dt>" not in body
    assert "Under way" not in body


def test_it_shows_when_a_call_ended(owner_client, practice, call):
    practice.time_zone = "America/New_York"
    practice.save()

    body = owner_client.get(_url(call)).content.decode()

    assert "<dt>Ended</dt><dd>Nov 20, 11:11:00 AM" in body


# The outcome's evidence, quoted and highlighted in the transcript

EVIDENCE_TRANSCRIPT = """\
User: Thank you for calling Aetna. Your claim RB-24017 is on file. For anything else, press 2.
AI: 2
User: Thanks for holding, this is Dana. How can I help?
AI: Hi Dana, I'm calling about claim RB-24017 for Eleanor Whitfield.
User: That claim was paid on November 1st.
User: Your reference number is 2601477318.
"""
# The same call as the platform's messages: times, a key press and a hold between the turns.
EVIDENCE_MESSAGES = [
    {"role": "system", "message": "You call payers about claims.", "secondsFromStart": 0},
    {
        "role": "user",
        "message": "Thank you for calling Aetna. Your claim RB-24017 is on file. For anything else, press 2.",
        "secondsFromStart": 0.5,
        "duration": 4000,
    },
    {
        "role": "tool_calls",
        "secondsFromStart": 5.0,
        "toolCalls": [{"function": {"name": "dtmf", "arguments": json.dumps({"keys": "2"})}}],
    },
    {"role": "bot", "message": "2", "secondsFromStart": 5.2, "duration": 500},
    {"role": "user", "message": "Thanks for holding, this is Dana.  How can I help?", "secondsFromStart": 400.0},
    {
        "role": "bot",
        "message": "Hi Dana, I'm calling about claim RB-24017 for Eleanor Whitfield.",
        "secondsFromStart": 404,
    },
    {"role": "user", "message": "That claim was paid on November 1st.", "secondsFromStart": 410.0},
    {"role": "user", "message": "Your reference number is 2601477318.", "secondsFromStart": 414.0},
]


def _with_evidence(call, messages: list, evidence: dict, **outcome) -> Call:
    call.transcript, call.messages = EVIDENCE_TRANSCRIPT, messages
    call.outcome = {"claim_status": "paid", "reference_number": "2601477318", **outcome, "evidence": evidence}
    call.save()
    return call


def _evidence_section(body: str) -> str:
    start = body.index('<h3 class="subheading">Evidence</h3>')
    return body[start : body.index("</ul>", start)]


def _shown_line(body: str, number: int) -> str:
    start = body.index(f'id="line-{number}"')
    return body[body.rindex("<li", 0, start) : body.index("</li>", start)]


@pytest.mark.parametrize("messages", [[], EVIDENCE_MESSAGES], ids=["transcript", "messages"])
def test_the_evidence_says_who_said_each_line(owner_client, call, messages):
    _with_evidence(
        call,
        messages,
        {"rep_name": [3], "reference_number": [6], "claim_status": [1, 5], "call_outcome": [4]},
        rep_name="Dana",
    )

    evidence = _evidence_section(owner_client.get(_url(call)).content.decode())

    assert "User:" not in evidence and "AI:" not in evidence
    assert evidence.count("Dana (payer)") == 3  # the representative's lines
    assert "Phone menu" in evidence  # the status the menu read out before anyone answered
    assert "BillingPulse agent" in evidence
    assert "<q>Your reference number is 2601477318.</q>" in evidence


@pytest.mark.parametrize("messages", [[], EVIDENCE_MESSAGES], ids=["transcript", "messages"])
def test_each_evidence_quote_links_to_its_line_and_the_line_is_marked(owner_client, call, messages):
    _with_evidence(call, messages, {"reference_number": [6], "claim_status": [1, 5], "rep_name": [3]})

    body = owner_client.get(_url(call)).content.decode()

    evidence = _evidence_section(body)
    for number in (1, 3, 5, 6):
        assert f'href="#line-{number}"' in evidence
    reference = _shown_line(body, 6)
    assert "<mark>Your reference number is 2601477318.</mark>" in reference
    assert "Evidence for" in reference and "Call reference #" in reference  # named, not only coloured
    paid = _shown_line(body, 5)
    assert "Claim status" in paid and "Call reference #" not in paid
    assert "<mark>" not in _shown_line(body, 4)  # a line nothing rests on stays plain


def test_the_representative_named_in_the_outcome_is_named_in_the_transcript(owner_client, call):
    call.messages = []
    call.transcript = "User: Provider services.\nUser: Claims, Dana speaking.\nAI: Hi, I'm calling about a claim.\n"
    call.outcome = {"claim_status": "paid", "rep_name": "Dana", "evidence": {"rep_name": [2]}}
    call.save()

    body = owner_client.get(_url(call)).content.decode()

    assert "Dana (payer)" in _evidence_section(body)
    assert ">Dana<" in _shown_line(body, 2)


def test_evidence_that_points_past_the_transcript_is_left_out_not_linked(owner_client, call):
    _with_evidence(call, [], {"reference_number": [6, 40], "claim_status": [0, "x"]})

    body = owner_client.get(_url(call)).content.decode()

    evidence = _evidence_section(body)
    assert 'href="#line-6"' in evidence and "#line-40" not in evidence and "#line-0" not in evidence
    assert "Claim status" not in evidence
