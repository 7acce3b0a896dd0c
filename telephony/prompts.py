"""What the voice agent is told: the claim facts it may disclose, the payer's phone menu, and the assistant settings.

Minimum necessary: the agent gets the facts a payer's representative asks for to find a
claim (practice name, NPI and tax ID; patient name, birth date and member ID; date of
service, billed amount, claim number) and nothing else about the patient.

Two ways to configure the agent, chosen by ``VAPI_ASSISTANT_ID``:

* a saved assistant (set in Vapi's dashboard) gets per-call ``assistantOverrides``: the
  facts and the whole brief as ``variableValues`` (its system prompt should contain
  ``{{callBrief}}``, see ``SAVED_ASSISTANT_PROMPT``), our tools appended, and the call settings;
* without one, a transient assistant is sent with the brief as its system prompt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from claims.models import Claim, Payer
    from telephony.models import Call

# Echoed back by Vapi in ``call.assistantOverrides.metadata``: how a webhook finds our call.
CALL_ID_KEY = "billingpulse_call_id"
PRACTICE_ID_KEY = "practice_id"
# ``customer.externalId``: names the call too, in case the overrides are not echoed back.
EXTERNAL_ID_PREFIX = "billingpulse-call-"
CLAIM_DETAILS_TOOL = "get_claim_details"
SERVER_MESSAGES = ["status-update", "end-of-call-report", "tool-calls", "hang"]
# The model of the transient assistant (a saved assistant keeps its own).
TRANSIENT_MODEL = {"provider": "openai", "model": "gpt-4o", "temperature": 0.2}
SAVED_ASSISTANT_PROMPT = "{{callBrief}}"

# The disclosable facts, in the order a representative usually asks for them.
FACT_LABELS = {
    "practiceName": "Practice name",
    "practiceNpi": "Practice NPI",
    "taxId": "Tax ID",
    "patientName": "Patient name",
    "patientDateOfBirth": "Patient date of birth",
    "memberId": "Member ID",
    "dateOfService": "Date of service",
    "billedAmount": "Billed amount",
    "claimNumber": "Claim number",
}


def claim_facts(claim: Claim) -> dict[str, str]:
    """The facts the agent may disclose about ``claim``, keyed as in ``FACT_LABELS`` ("" when not on file)."""
    practice, patient = claim.practice, claim.patient
    npi = practice.npi or (claim.provider.npi if claim.provider_id else "")
    service = _date(claim.service_date_from)
    if claim.service_date_to and claim.service_date_to != claim.service_date_from:
        service = f"{service} to {_date(claim.service_date_to)}"
    return {
        "practiceName": practice.name,
        "practiceNpi": npi,
        "taxId": practice.tax_id,
        "patientName": patient.full_name,
        "patientDateOfBirth": _date(patient.date_of_birth),
        "memberId": _member_id(claim),
        "dateOfService": service,
        "billedAmount": f"${claim.total_charge:,.2f}",
        "claimNumber": claim.claim_number,
    }


def claim_details_result(claim: Claim) -> str:
    """The answer to the ``get_claim_details`` tool: one line, as Vapi wants tool results."""
    facts = claim_facts(claim)
    return "; ".join(f"{FACT_LABELS[key]}: {value or 'not on file'}" for key, value in facts.items())


def ivr_instructions(payer: Payer) -> str:
    """The payer's phone menu as numbered steps (structured config first, then free-text notes)."""
    lines = []
    for number, step in enumerate((payer.ivr_config or {}).get("steps", []), start=1):
        parts = [f'{number}. The menu says: "{step["prompt"]}".']
        options = step.get("options") or {}
        if options:
            parts.append("Keys: " + ", ".join(f"{key} = {meaning}" for key, meaning in options.items()) + ".")
        if step.get("say"):
            parts.append(f'Say: "{step["say"]}".')
        if step.get("wait_seconds"):
            parts.append(f"Then expect about {step['wait_seconds']} seconds of waiting.")
        lines.append(" ".join(parts))
    notes = payer.ivr_notes.strip()
    if notes:
        lines.append(f"Notes about this line: {_one_line(notes)}")
    if not lines:
        return "No notes about this phone menu: listen to each menu and choose the options for provider claim status."
    return "\n".join(lines)


def system_prompt(call: Call) -> str:
    """The agent's brief for one call: who it calls for, the menu, the facts, and what it must bring back."""
    claim, payer = call.claim, call.payer
    facts = claim_facts(claim)
    fact_lines = "\n".join(f"- {FACT_LABELS[key]}: {value or 'not on file'}" for key, value in facts.items())
    return f"""You are calling {payer.name} provider services on behalf of {facts["practiceName"]}, \
a medical practice, to check the status of one claim. Be brief, polite and factual.

Phone menu. Wait until a menu has finished before pressing keys. Press keys with the dtmf tool, several keys \
in one call with "w" pauses between them (for example "w2w1"). If keys do not work, say the option aloud. \
Choose the options for providers, then claims or claim status. Stay silent while on hold or while music plays.
{ivr_instructions(payer)}

When a representative answers, say you are calling from {facts["practiceName"]} about the status of a claim. \
If asked whether you are a person, say you are an automated assistant calling for the practice. \
Give these facts only when asked for them, and nothing else about the patient. \
If asked for anything not listed, say you do not have it. If you need them again, use the {CLAIM_DETAILS_TOOL} tool.
{fact_lines}

Ask for: the claim status; if paid, the paid amount, the payment date and the check or EFT number; \
if denied, the denial reason and code and what is needed to fix it; if pending, when it will be processed \
and whether anything is needed from the practice.
Before the call ends, always get the call reference number and the representative's name, and repeat them \
back to confirm. Never end the call without asking for both.
Never guess or invent information. Do not discuss any other patient or claim. If the representative will not \
give information to an automated caller, thank them and end the call.
When you have the answers, thank the representative and end the call with the endCall tool."""


def call_metadata(call: Call) -> dict[str, int]:
    return {CALL_ID_KEY: call.pk, PRACTICE_ID_KEY: call.practice_id}


def external_id(call: Call) -> str:
    return f"{EXTERNAL_ID_PREFIX}{call.pk}"


def webhook_url() -> str:
    return settings.SITE_URL + reverse("vapi_webhook")


def webhook_server() -> dict:
    """Where Vapi sends this call's messages, and how it proves it is Vapi.

    ``X-Vapi-Secret`` is a static header (Vapi's simplest option). HMAC signatures need a
    credential set up in Vapi; its id, when configured, goes in ``credentialId``.
    """
    server: dict = {"url": webhook_url(), "timeoutSeconds": 20}
    if settings.VAPI_WEBHOOK_SECRET:
        server["headers"] = {"X-Vapi-Secret": settings.VAPI_WEBHOOK_SECRET}
    credential_id = settings.VAPI_WEBHOOK_CREDENTIAL_ID
    if credential_id:
        server["credentialId"] = credential_id
    return server


def tools() -> list[dict]:
    return [
        {"type": "dtmf"},
        {"type": "endCall"},
        {
            "type": "function",
            "function": {
                "name": CLAIM_DETAILS_TOOL,
                "description": "The facts about this call's claim that may be given to the payer's representative.",
                "parameters": {"type": "object", "properties": {}},
            },
            "server": webhook_server(),
        },
    ]


def call_settings() -> dict:
    """Settings every payer call needs, whichever assistant runs it."""
    server = webhook_server()
    # Vapi does not retry a failed delivery unless asked; duplicates are harmless (stored once).
    server["backoffPlan"] = {"type": "exponential", "maxRetries": 3, "baseDelaySeconds": 1}
    return {
        # An IVR greets first; speaking over it would garble the menu.
        "firstMessageMode": "assistant-waits-for-user",
        "maxDurationSeconds": settings.CALL_MAX_DURATION_SECONDS,
        # An IVR greeting can look like an answering machine: detection would hang up on payers.
        "voicemailDetection": "off",
        "backgroundSound": "off",
        "serverMessages": list(SERVER_MESSAGES),
        "server": server,
        "endCallMessage": "Thank you for your help. Goodbye.",
    }


def variable_values(call: Call) -> dict[str, str]:
    return {**claim_facts(call.claim), "payerName": call.payer.name, "callBrief": system_prompt(call)}


def assistant_overrides(call: Call) -> dict:
    """Per-call overrides for the saved assistant (``VAPI_ASSISTANT_ID``)."""
    return {
        **call_settings(),
        "variableValues": variable_values(call),
        "tools:append": tools(),
        "metadata": call_metadata(call),
    }


def transient_assistant(call: Call) -> dict:
    """A complete assistant for one call, when no saved assistant is configured."""
    return {
        "name": "BillingPulse claim status",
        **call_settings(),
        "model": {
            **TRANSIENT_MODEL,
            "messages": [{"role": "system", "content": system_prompt(call)}],
            "tools": tools(),
        },
        "metadata": call_metadata(call),
    }


def _member_id(claim: Claim) -> str:
    if claim.policy_id:
        return claim.policy.member_id
    policy = claim.patient.policies.filter(payer_id=claim.payer_id).order_by("priority", "pk").first()
    return policy.member_id if policy else ""


def _date(value) -> str:
    # MM/DD/YYYY: how US payers ask for and read back dates.
    return f"{value:%m/%d/%Y}" if value else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())
