from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billingpulse.tests.factories import PatientFactory, PracticeFactory, ProviderFactory
from claims.tests.factories import ClaimFactory, InsurancePolicyFactory, PayerFactory
from telephony import prompts
from telephony.models import Call
from telephony.tests.factories import CallFactory

pytestmark = pytest.mark.django_db

IVR = {
    "steps": [
        {"prompt": "For providers, press 2", "options": {"1": "members", "2": "providers"}},
        {"prompt": "Say or enter your NPI", "say": "claims status", "wait_seconds": 30},
    ]
}


@pytest.fixture
def call():
    practice = PracticeFactory(name="Riverside Family Medicine", npi="1234567893", tax_id="12-3456789")
    payer = PayerFactory(practice=practice, name="Example Health Plan", phone="+18005550142", ivr_config=IVR)
    patient = PatientFactory(
        practice=practice,
        first_name="Maria",
        last_name="Lopez",
        date_of_birth=date(1961, 3, 4),
        phone="+15125550199",
        address_line1="12 Elm Street",
        account_number="ACCT-55501",
    )
    policy = InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W123456789")
    claim = ClaimFactory(
        practice=practice,
        patient=patient,
        payer=payer,
        policy=policy,
        claim_number="CLM-2026-000123",
        service_date_from=date(2026, 1, 5),
        total_charge=Decimal("1250.00"),
        diagnosis_codes=["F32.9"],
    )
    return CallFactory(practice=practice, claim=claim, provider=Call.Provider.VAPI, status=Call.Status.QUEUED)


def test_it_gives_the_agent_every_disclosable_fact(call):
    prompt = prompts.system_prompt(call)

    for fact in [
        "Riverside Family Medicine",
        "1234567893",
        "12-3456789",
        "Maria Lopez",
        "03/04/1961",
        "W123456789",
        "01/05/2026",
        "$1,250.00",
        "CLM-2026-000123",
    ]:
        assert fact in prompt


def test_it_leaves_out_what_the_payer_does_not_need(call):
    prompt = prompts.system_prompt(call)

    for private in ["12 Elm Street", "+15125550199", "ACCT-55501", "F32.9"]:
        assert private not in prompt


def test_it_tells_the_agent_to_get_the_reference_number_and_the_representatives_name(call):
    prompt = prompts.system_prompt(call)

    assert "always get the call reference number and the representative's name" in prompt


def test_it_walks_the_agent_through_the_payers_phone_menu(call):
    instructions = prompts.ivr_instructions(call.payer)

    assert instructions.splitlines() == [
        '1. The menu says: "For providers, press 2". Keys: 1 = members, 2 = providers.',
        '2. The menu says: "Say or enter your NPI". Say: "claims status". Then expect about 30 seconds of waiting.',
    ]
    assert instructions in prompts.system_prompt(call)


def test_it_uses_the_payers_ivr_notes_when_there_is_no_menu(call):
    call.payer.ivr_config = {}
    call.payer.ivr_notes = "Press 3 for claims.\nThen say the NPI."

    assert prompts.ivr_instructions(call.payer) == "Notes about this line: Press 3 for claims. Then say the NPI."


def test_it_asks_the_agent_to_listen_when_nothing_is_known_about_the_menu(call):
    call.payer.ivr_config = {}

    assert "listen to each menu" in prompts.ivr_instructions(call.payer)


def test_it_answers_get_claim_details_on_one_line(call):
    result = prompts.claim_details_result(call.claim)

    assert "\n" not in result
    assert result.startswith("Practice name: Riverside Family Medicine; Practice NPI: 1234567893; Tax ID: 12-3456789")
    assert "Member ID: W123456789" in result
    assert result.endswith("Claim number: CLM-2026-000123")


def test_it_uses_the_rendering_providers_npi_when_the_practice_has_none(call):
    call.claim.practice.npi = ""
    call.claim.provider = ProviderFactory(practice=call.practice, npi="1987654328")

    assert prompts.claim_facts(call.claim)["practiceNpi"] == "1987654328"


def test_it_finds_the_member_id_from_the_patients_policy_with_the_payer(call):
    call.claim.policy = None

    assert prompts.claim_facts(call.claim)["memberId"] == "W123456789"


def test_it_says_what_is_not_on_file(call):
    call.claim.practice.tax_id = ""

    assert "Tax ID: not on file" in prompts.claim_details_result(call.claim)


def test_it_builds_a_transient_assistant_for_a_payer_call(call, settings):
    settings.SITE_URL = "https://billing.example.org"
    settings.CALL_MAX_DURATION_SECONDS = 2700

    assistant = prompts.transient_assistant(call)

    assert assistant["firstMessageMode"] == "assistant-waits-for-user"
    assert assistant["maxDurationSeconds"] == 2700
    assert assistant["voicemailDetection"] == "off"
    assert assistant["serverMessages"] == ["status-update", "end-of-call-report", "tool-calls", "hang"]
    assert assistant["server"]["url"] == "https://billing.example.org/api/webhooks/vapi"
    assert assistant["metadata"] == {"billingpulse_call_id": call.pk, "practice_id": call.practice_id}
    assert assistant["model"]["messages"] == [{"role": "system", "content": prompts.system_prompt(call)}]
    tools = assistant["model"]["tools"]
    assert [tool["type"] for tool in tools] == ["dtmf", "endCall", "function"]
    assert tools[2]["function"]["name"] == "get_claim_details"
    assert tools[2]["server"]["url"] == "https://billing.example.org/api/webhooks/vapi"


def test_it_sends_the_shared_secret_with_the_webhook_address(call, settings):
    settings.VAPI_WEBHOOK_SECRET = "s3cret"

    server = prompts.webhook_server()

    assert server["headers"] == {"X-Vapi-Secret": "s3cret"}


def test_it_gives_a_saved_assistant_the_brief_and_the_facts_as_variables(call):
    overrides = prompts.assistant_overrides(call)

    assert overrides["variableValues"]["callBrief"] == prompts.system_prompt(call)
    assert overrides["variableValues"]["claimNumber"] == "CLM-2026-000123"
    assert [tool["type"] for tool in overrides["tools:append"]] == ["dtmf", "endCall", "function"]
    assert overrides["metadata"] == {"billingpulse_call_id": call.pk, "practice_id": call.practice_id}
    assert "model" not in overrides
