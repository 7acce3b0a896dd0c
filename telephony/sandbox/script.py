"""The sandbox's payer calls: an outcome for the claim, and the conversation that reaches it.

``write_call(facts, seed, ...)`` is pure: the same facts and seed (the sandbox's call id)
give the same call, word for word and second for second. It only ever speaks the facts it
is given, which are one claim's (``ClaimFacts.for_claim``), so a transcript cannot carry
another claim's data.

A call is a list of turns in Vapi's terms: ``bot`` is our voice agent, ``user`` is the
payer side (the phone menu and the representative alike), ``dtmf`` is a key press sent
with the DTMF tool. The outcomes follow the corpus labelling (``../shared/corpus``):
paid, partially paid, denied, in process, pending information, not on file,
reprocessing, and calls that never reach anyone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from telephony.sandbox import speech

if TYPE_CHECKING:
    from claims.models import Claim

CENT = Decimal("0.01")
# How often each outcome comes up for a claim with no denial on file; see _weights().
WEIGHTS = {
    "paid": 20,
    "partially_paid": 9,
    "denied": 11,
    "in_process": 16,
    "pending_info": 10,
    "not_on_file": 8,
    "reprocessing": 7,
    "no_answer": 5,
    "voicemail": 3,
    "ivr_failure": 4,
    "hold_too_long": 2,
}
FAILURES = {"no_answer", "voicemail", "ivr_failure", "hold_too_long"}
ENDED_REASONS = {
    "voicemail": "voicemail",
    "ivr_failure": "customer-ended-call",
    "hold_too_long": "exceeded-max-duration",
}
REP_NAMES = [
    "Renee",
    "Tanya",
    "Marcus",
    "Dolores",
    "Kevin",
    "Priya",
    "Luis",
    "Janelle",
    "Andre",
    "Monique",
    "Curtis",
    "Heather",
    "Omar",
    "Brenda",
    "Tyrone",
    "Keisha",
    "Samantha",
    "Derek",
    "Yolanda",
    "Victor",
    "Carmen",
    "Travis",
    "Nadia",
    "Gloria",
]
# What a representative says a denial means and what the practice can do about it.
DENIALS = {
    "CO-4": (
        "the procedure code is inconsistent with the modifier used",
        "send a corrected claim with the right modifier",
    ),
    "CO-11": (
        "the diagnosis is inconsistent with the procedure",
        "send a corrected claim with the supporting diagnosis",
    ),
    "CO-16": (
        "the claim is missing information needed for adjudication",
        "send a corrected claim with the missing information",
    ),
    "CO-18": (
        "it's a duplicate of a claim that already processed",
        "check the original claim; there's nothing to resubmit",
    ),
    "CO-22": ("the member has other coverage that's primary", "bill the primary payer first and send us their EOB"),
    "CO-27": ("the member's coverage had terminated before the date of service", "check eligibility with the patient"),
    "CO-29": ("the time limit for filing has expired", "appeal with proof of timely filing if you have it"),
    "CO-50": ("it was not deemed medically necessary", "file an appeal with the medical records"),
    "CO-97": (
        "the service is included in the allowance for another service on the same day",
        "send a corrected claim with a modifier if it was a separate service",
    ),
    "CO-109": ("the service isn't covered by this plan", "bill the patient or the correct carrier"),
    "CO-197": ("the precertification or authorization was absent", "appeal with the authorization number"),
    "PR-1": ("it applied to the patient's deductible", "bill the patient"),
    "PR-2": ("it applied to the patient's coinsurance", "bill the patient"),
}
REMARKS = {"CO-16": ["N290", "M51"], "CO-97": ["M15"], "CO-50": ["N115"], "CO-197": ["N54"], "CO-22": ["N479"]}
MISSING_ITEMS = (
    ("medical records for the date of service", "the office notes"),
    ("an itemized bill", "the itemized bill"),
    ("a copy of the referral", "the referral"),
    ("the operative report", "the op report"),
    ("the member's coordination of benefits update", "the COB update from the member"),
)
PAYER_FAXES = ("1-888-555-0147", "1-877-555-0199", "1-866-555-0123")
FOLLOW_UP_PHRASES = {
    7: ("seven days", "a week"),
    10: ("ten days",),
    14: ("fourteen days", "two weeks"),
    15: ("fifteen days",),
    21: ("twenty-one days", "three weeks"),
    30: ("thirty days", "a month"),
}
# "Five business days" is seven calendar days (ceil(n * 7 / 5)), as the corpus counts them.
BUSINESS_DAYS = {5: 7, 10: 14}


@dataclass(frozen=True)
class ClaimFacts:
    """What the agent may say about one claim: the minimum necessary, nothing else."""

    practice_name: str
    npi: str
    tax_id: str
    patient_name: str
    patient_dob: date
    member_id: str
    date_of_service: date
    billed: Decimal
    claim_number: str
    payer_name: str
    payer_phone: str = ""
    payer_extension: str = ""
    ivr_steps: tuple = ()
    timely_filing_days: int = 90
    denial_code: str = ""
    denial_reason: str = ""
    remark_codes: tuple = ()
    allowed: Decimal | None = None
    lines: tuple = ()  # (line number, procedure code, charge)
    claim_status: str = ""

    @classmethod
    def for_claim(cls, claim: Claim) -> ClaimFacts:
        practice, payer = claim.practice, claim.payer
        return cls(
            practice_name=practice.name,
            npi=(claim.provider.npi if claim.provider else "") or practice.npi,
            tax_id=practice.tax_id,
            patient_name=claim.patient.full_name,
            patient_dob=claim.patient.date_of_birth,
            member_id=claim.policy.member_id if claim.policy else "",
            date_of_service=claim.service_date_from,
            billed=claim.total_charge,
            claim_number=claim.claim_number,
            payer_name=payer.name,
            payer_phone=payer.phone,
            payer_extension=payer.phone_extension,
            ivr_steps=tuple((payer.ivr_config or {}).get("steps", [])),
            timely_filing_days=payer.timely_filing_days,
            denial_code=claim.denial_code,
            denial_reason=claim.denial_reason,
            remark_codes=tuple(claim.remark_codes or ()),
            allowed=claim.allowed_amount,
            lines=tuple((line.line_number, line.procedure_code, line.charge) for line in claim.lines.all()),
            claim_status=claim.status,
        )


@dataclass(frozen=True)
class Turn:
    role: str  # "bot", "user" or "dtmf"
    text: str
    seconds_from_start: float
    duration: float


@dataclass
class ScriptedCall:
    outcome: str
    ended_reason: str
    answered: bool  # the line picked up (Vapi's "in-progress")
    ring_seconds: float
    duration_seconds: float
    turns: list[Turn]
    summary: str
    rep_name: str = ""
    reference_number: str = ""  # uppercase letters and digits, as the corpus labels it
    reference_spoken: str = ""
    # What a careful listener would record; the tests compare the transcript with it.
    facts_said: dict = field(default_factory=dict)


class _Conversation:
    """Turns with their timing: speech at a talking pace, pauses between speakers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.clock = 0.0
        self.turns: list[Turn] = []

    def say(self, role: str, text: str) -> None:
        seconds = round(max(1.2, len(text.split()) / self.rng.uniform(2.3, 2.9)), 2)
        self.turns.append(Turn(role, text, round(self.clock, 2), seconds))
        self.clock += seconds + self.rng.uniform(0.5, 1.6)

    def bot(self, text: str) -> None:
        self.say("bot", text)

    def payer(self, text: str) -> None:
        self.say("user", text)

    def press(self, keys: str) -> None:
        self.turns.append(Turn("dtmf", keys, round(self.clock, 2), 0.5 * len(keys)))
        self.clock += 1.0 + 0.5 * len(keys)

    def wait(self, seconds: float) -> None:
        self.clock += seconds


def write_call(facts: ClaimFacts, seed: str, *, call_date: date, max_duration: int = 2700) -> ScriptedCall:
    """One call about ``facts``; the same ``seed`` always gives the same call."""
    rng = random.Random(f"sandbox:{seed}")
    weights = _weights(facts)
    outcome = rng.choices(list(weights), weights=list(weights.values()))[0]
    if outcome == "no_answer":
        reason = rng.choice(["customer-did-not-answer", "customer-did-not-answer", "customer-busy"])
        summary = "The call was not answered." if reason == "customer-did-not-answer" else "The payer line was busy."
        return ScriptedCall(outcome, reason, False, rng.uniform(25, 45), 0.0, [], summary)
    talk = _Conversation(rng)
    writer = _Writer(facts, rng, talk, call_date)
    if outcome == "voicemail":
        writer.voicemail()
    elif outcome == "ivr_failure":
        writer.ivr_dead_end()
    elif outcome == "hold_too_long":
        writer.endless_hold(max_duration)
    else:
        writer.menu()
        writer.hold()
        writer.representative()
        getattr(writer, outcome)()
        writer.reference_and_goodbye()
    duration = min(talk.clock, max_duration) if outcome == "hold_too_long" else talk.clock
    return ScriptedCall(
        outcome=outcome,
        ended_reason=ENDED_REASONS.get(outcome, rng.choice(["assistant-ended-call", "customer-ended-call"])),
        answered=True,
        ring_seconds=rng.uniform(3, 12),
        duration_seconds=round(duration, 2),
        turns=talk.turns,
        summary=writer.summary(outcome),
        rep_name=writer.rep_name,
        reference_number=writer.reference,
        reference_spoken=writer.reference_spoken,
        facts_said=writer.said,
    )


def _weights(facts: ClaimFacts) -> dict[str, int]:
    weights = dict(WEIGHTS)
    if facts.denial_code:
        # A claim that came back denied is most often still denied, or going back for reprocessing.
        weights |= {"denied": 26, "reprocessing": 14, "paid": 8, "partially_paid": 5, "not_on_file": 3}
    if facts.claim_status == "pending_info":
        weights["pending_info"] += 15
    if facts.claim_status in {"in_process", "accepted"}:
        weights["in_process"] += 10
    if facts.claim_status in {"paid", "partially_paid"}:
        # Calling about a claim we already saw paid: the payer mostly confirms the payment.
        weights["partially_paid" if facts.claim_status == "partially_paid" else "paid"] += 30
    return weights


class _Writer:
    """Writes the parts of one call; each method appends turns to the conversation."""

    def __init__(self, facts: ClaimFacts, rng: random.Random, talk: _Conversation, call_date: date) -> None:
        self.facts, self.rng, self.talk, self.today = facts, rng, talk, call_date
        self.rep_name = ""
        self.reference = ""
        self.reference_spoken = ""
        self.said: dict = {}

    # -- Reaching someone ------------------------------------------------------------------

    def menu(self) -> None:
        """The payer's phone menu: its configured steps when we have them, else a typical one."""
        f, talk = self.facts, self.talk
        talk.payer(
            self.rng.choice(
                [
                    f"Thank you for calling {f.payer_name} provider services. This call may be monitored or recorded.",
                    f"Welcome to {f.payer_name}. Calls are recorded for quality and training purposes.",
                ]
            )
        )
        if f.ivr_steps:
            for step in f.ivr_steps:
                self._configured_step(step)
        elif self.rng.random() < 0.5:
            self._speech_menu()
        else:
            self._keypad_menu()
        talk.payer("Please hold while I transfer you to the next available representative.")

    def _configured_step(self, step: dict) -> None:
        talk = self.talk
        talk.payer(step["prompt"])
        if step.get("say"):
            talk.bot(step["say"])
        elif step.get("options"):
            options = step["options"]
            key = next((k for k, label in options.items() if "claim" in label.lower()), None)
            key = key or next((k for k, label in options.items() if "provider" in label.lower()), None)
            talk.press(key or next(iter(options)))
        if step.get("wait_seconds"):
            talk.wait(step["wait_seconds"])

    def _speech_menu(self) -> None:
        f, talk = self.facts, self.talk
        talk.payer("To get started, please say or enter the provider's NPI.")
        talk.bot(speech.digits(f.npi) + ".")
        talk.payer("Thanks. What are you calling about? You can say claims, eligibility, or prior authorization.")
        talk.bot("Claims.")
        if f.member_id:
            talk.payer("Please say or enter the member ID, including any letters.")
            talk.bot(speech.digits(f.member_id) + ".")
        talk.payer("And the patient's date of birth.")
        talk.bot(speech.birth_date(f.patient_dob) + ".")

    def _keypad_menu(self) -> None:
        f, talk = self.facts, self.talk
        talk.payer("If you are a provider, press 1. If you are a member, press 2.")
        talk.press("1")
        talk.payer(
            "For claim status, press 3. For eligibility and benefits, press 2. To repeat these options, press star."
        )
        talk.press("3")
        if f.tax_id:
            talk.payer("Please enter your tax ID number, followed by the pound sign.")
            talk.press("".join(ch for ch in f.tax_id if ch.isdigit()) + "#")
        talk.payer("To speak with a representative about a claim, press 0.")
        talk.press("0")

    def hold(self) -> None:
        talk, rng = self.talk, self.rng
        minutes = rng.choice([2, 4, 6, 9, 12, 15])
        talk.payer(f"Your estimated wait time is {speech.number_words(minutes)} minutes. Please stay on the line.")
        talk.wait(minutes * 60 * rng.uniform(0.5, 0.8))
        if rng.random() < 0.6:
            talk.payer(
                rng.choice(
                    [
                        "Thank you for your patience. Did you know you can check claim status any time "
                        "on our provider portal?",
                        "Your call is important to us. Please continue to hold.",
                    ]
                )
            )
            talk.wait(minutes * 60 * rng.uniform(0.2, 0.5))

    def representative(self) -> None:
        """The representative answers, and checks who we are and which claim we mean."""
        f, talk, rng = self.facts, self.talk, self.rng
        name = rng.choice(REP_NAMES)
        self.rep_name = f"{name} {rng.choice('BCDGHKLMPRSTW')}." if rng.random() < 0.25 else name
        talk.payer(
            rng.choice(
                [
                    f"Thank you for holding, this is {self.rep_name} with provider services. Who am I speaking with?",
                    f"{f.payer_name}, my name is {self.rep_name}. Can I have your name and where you're calling from?",
                    f"Provider services, this is {self.rep_name.rstrip('.')}. How can I help you today?",
                ]
            )
        )
        talk.bot(
            f"Hi {name}, this is an automated assistant calling on behalf of {f.practice_name}. "
            "I'm calling to check on the status of a claim."
        )
        if rng.random() < 0.3:
            self._give_reference(early=True)
        talk.payer(rng.choice(["Okay. Can I have the provider NPI?", "Sure, I can help. What's the NPI?"]))
        talk.bot(f"The NPI is {speech.digits(f.npi)}.")
        if f.tax_id and rng.random() < 0.5:
            talk.payer("And the tax ID?")
            talk.bot(f"The tax ID is {speech.digits(f.tax_id)}.")
        if f.member_id and rng.random() < 0.5:
            talk.payer("And the member ID?")
            talk.bot(f"The member ID is {speech.digits(f.member_id)}.")
            talk.payer(f"Okay, I have {f.patient_name}, date of birth {speech.birth_date(f.patient_dob, short=True)}?")
            talk.bot("Yes, that's correct.")
        else:
            talk.payer("Thank you. And the member's name and date of birth?")
            talk.bot(f"The patient is {f.patient_name}, date of birth {speech.birth_date(f.patient_dob)}.")
            if f.member_id:
                talk.payer("And the member ID?")
                talk.bot(f"The member ID is {speech.digits(f.member_id)}.")
            else:
                talk.payer("Do you have the member ID?")
                talk.bot("I don't have it on hand. Can you find the member by name and date of birth?")
                talk.payer("Yes, I have the member here.")
        talk.payer("What's the date of service?")
        talk.bot(
            f"The date of service is {speech.spoken_date(f.date_of_service, rng)}, "
            f"billed amount {speech.money(f.billed, rng)}, claim number {f.claim_number}."
        )
        talk.payer(rng.choice(["Okay, give me one moment.", "Let me pull that up.", "One second while I look."]))
        talk.wait(rng.uniform(8, 40))

    # -- What the payer says about the claim -------------------------------------------------

    def paid(self) -> None:
        f, talk, rng = self.facts, self.talk, self.rng
        amount = self._allowed()
        paid_on = self.today - timedelta(days=rng.randint(4, 26))
        talk.payer(
            f"Okay, I have that claim. It processed on {speech.spoken_date(paid_on - timedelta(days=2), rng)} "
            f"and it was paid {speech.money(amount, rng)}."
        )
        if amount < f.billed:
            talk.payer("The rest is a contractual adjustment, there's no patient responsibility.")
        self._payment(amount, paid_on)

    def partially_paid(self) -> None:
        f, talk, rng = self.facts, self.talk, self.rng
        paid_on = self.today - timedelta(days=rng.randint(4, 26))
        allowed = self._allowed()
        if len(f.lines) >= 2 and rng.random() < 0.6:
            number, code, charge = f.lines[-1]
            amount = (allowed * (1 - charge / f.billed)).quantize(CENT) if f.billed else allowed
            paid_lines = f"Line {f.lines[0][0]} was" if len(f.lines) == 2 else "The other lines were"
            talk.payer(
                f"That one processed on {speech.spoken_date(paid_on, rng)}. {paid_lines} paid, "
                f"{speech.money(amount, rng)} in total, but line {number}, procedure {code}, was denied "
                f"{speech.denial_code('CO-97', rng)}, {DENIALS['CO-97'][0]}."
            )
            talk.bot("Understood. What would you recommend for the denied line?")
            talk.payer(f"If it was a separate service, {DENIALS['CO-97'][1]}.")
            self.said |= {"denial_code": "CO-97"}
        else:
            share = (allowed * Decimal(rng.choice(["0.2", "0.3"]))).quantize(CENT)
            amount = allowed - share
            talk.payer(
                f"It was allowed at {speech.money(allowed, rng)}. We paid {speech.money(amount, rng)}, and "
                f"{speech.money(share, rng)} is patient responsibility for coinsurance, "
                f"{speech.denial_code('PR-2', rng)}."
            )
            self.said |= {"denial_code": "PR-2"}
        self._payment(amount, paid_on)

    def denied(self) -> None:
        f, talk, rng = self.facts, self.talk, self.rng
        code = f.denial_code or rng.choice(["CO-16", "CO-50", "CO-197", "CO-97", "CO-22", "CO-29"])
        meaning, action = DENIALS.get(code, (f.denial_reason.rstrip(".").lower() or "of the plan's policy", ""))
        denied_on = self.today - timedelta(days=rng.randint(5, 40))
        talk.payer(
            f"I see that claim was denied on {speech.spoken_date(denied_on, rng)}, "
            f"{speech.denial_code(code, rng)}, because {meaning}."
        )
        remarks = list(f.remark_codes) or REMARKS.get(code, [])[: rng.randint(0, 1)]
        if remarks:
            talk.payer(f"There's also a remark code {remarks[0]} on it.")
        talk.bot("What would you recommend to get it paid?")
        if action:
            talk.payer(f"You'd need to {action}.")
        else:
            talk.payer("You can send an appeal with supporting documentation within a hundred and eighty days.")
        if code.startswith("CO") and rng.random() < 0.5:
            talk.bot("Is there a deadline for that?")
            talk.payer(
                "A hundred eighty days from the denial, so you have until "
                f"{speech.spoken_date(denied_on + timedelta(days=180), rng)}."
            )
        self.said |= {"denial_code": code, "remark_codes": remarks}

    def in_process(self) -> None:
        talk, rng = self.talk, self.rng
        received = self._received_on()
        days = rng.choice([7, 10, 14, 15, 30])
        talk.payer(
            f"That claim was received on {speech.spoken_date(received, rng)} and it's still in process. "
            "It hasn't finalized yet."
        )
        talk.bot("Is there anything holding it up, or anything you need from us?")
        talk.payer(
            f"No, nothing needed. Please allow {rng.choice(FOLLOW_UP_PHRASES[days])} for it to finalize "
            "and call back if you don't see it."
        )
        self.said |= {"follow_up_days": days}

    def pending_info(self) -> None:
        talk, rng = self.talk, self.rng
        missing, short = rng.choice(MISSING_ITEMS)
        asked_on = self._received_on() + timedelta(days=rng.randint(3, 9))
        asked_on = min(asked_on, self.today - timedelta(days=1))
        talk.payer(
            f"That claim is pended. We sent a request for {missing} on {speech.spoken_date(asked_on, rng)} "
            "and we haven't received anything back."
        )
        talk.bot(f"How should we send {short}?")
        fax = rng.choice(PAYER_FAXES)
        talk.payer(f"You can fax them to {fax} with the claim number on the cover sheet, or upload them on the portal.")
        talk.bot("And once you receive them, how long does it take?")
        talk.payer("About thirty days after we get them.")
        self.said |= {"missing": missing}

    def not_on_file(self) -> None:
        f, talk, rng = self.facts, self.talk, self.rng
        talk.payer("I'm not finding a claim for that date of service under this member.")
        talk.bot(f"Could you search by the claim number, {f.claim_number}?")
        talk.wait(rng.uniform(5, 15))
        talk.payer("No, nothing under that number either. It looks like we never received it.")
        deadline = f.date_of_service + timedelta(days=f.timely_filing_days)
        talk.bot("What do you recommend?")
        talk.payer(
            f"You'll need to resubmit it. Timely filing is {speech.number_words(f.timely_filing_days)} days "
            f"from the date of service, so it has to be in by {speech.spoken_date(deadline, rng)}."
        )

    def reprocessing(self) -> None:
        f, talk, rng = self.facts, self.talk, self.rng
        code = f.denial_code or "CO-16"
        talk.payer(
            f"I see it denied {speech.denial_code(code, rng)}, but looking at it, that denial was applied in error."
        )
        talk.payer("I'm going to send it back for reprocessing.")
        days = rng.choice([5, 10, 7, 14])
        if days in BUSINESS_DAYS:
            talk.payer(f"Give it about {speech.number_words(days)} business days, then call back to check.")
            days = BUSINESS_DAYS[days]
        else:
            talk.payer(f"We'll reprocess it. Call back in {rng.choice(FOLLOW_UP_PHRASES[days])} to check on it.")
        self.said |= {"follow_up_days": days}

    # -- Ending the call -------------------------------------------------------------------

    def reference_and_goodbye(self) -> None:
        talk = self.talk
        if not self.reference:
            talk.bot("Could I get a reference number for this call?")
            self._give_reference(early=False)
        talk.bot(f"And I have your name as {self.rep_name.rstrip('.')}.")
        talk.payer("That's right. Is there anything else?")
        talk.bot(f"No, that's everything. Thank you, {self.rep_name.split()[0]}, have a good day.")
        talk.payer(self.rng.choice(["You too, bye-bye.", "You're welcome, have a good one.", "Thanks, bye."]))

    def _give_reference(self, *, early: bool) -> None:
        rng = self.rng
        style = rng.randrange(3)
        if style == 0:
            self.reference = "".join(str(rng.randrange(10)) for _ in range(10))
            self.reference_spoken = speech.digits(self.reference)
        elif style == 1:
            self.reference = (
                rng.choice("CRPTS") + rng.choice("ABEKRX") + "".join(str(rng.randrange(10)) for _ in range(7))
            )
            self.reference_spoken = speech.phonetic(self.reference)
        else:
            self.reference = self.today.strftime("%y%m%d") + "".join(str(rng.randrange(10)) for _ in range(5))
            self.reference_spoken = speech.grouped_digits(self.reference)
        lead = (
            "Before we start, let me give you a reference number for this call"
            if early
            else "Sure, the reference number is"
        )
        self.talk.payer(f"{lead}: {self.reference_spoken}.")
        self.talk.bot(f"Thank you, that's {self.reference_spoken}.")

    def _payment(self, amount: Decimal, paid_on: date) -> None:
        talk, rng = self.talk, self.rng
        talk.bot("Was that paid by check or EFT?")
        if rng.random() < 0.5:
            number = "".join(str(rng.randrange(10)) for _ in range(10))
            talk.payer(f"By check, check number {speech.digits(number)}, issued {speech.spoken_date(paid_on, rng)}.")
        else:
            number = "".join(str(rng.randrange(10)) for _ in range(9))
            talk.payer(
                f"It went out by EFT on {speech.spoken_date(paid_on, rng)}, trace number {speech.digits(number)}."
            )
        self.said |= {"paid_amount": amount, "payment_number": number, "payment_date": paid_on}

    def _allowed(self) -> Decimal:
        f = self.facts
        if f.allowed and Decimal("0") < f.allowed <= f.billed:
            return f.allowed
        ratio = Decimal(str(round(self.rng.uniform(0.55, 0.9), 3)))
        return (f.billed * ratio).quantize(CENT, rounding=ROUND_HALF_UP)

    def _received_on(self) -> date:
        received = self.facts.date_of_service + timedelta(days=self.rng.randint(4, 15))
        return min(received, self.today - timedelta(days=self.rng.randint(10, 20)))

    # -- Calls that reach nobody -----------------------------------------------------------

    def voicemail(self) -> None:
        f = self.facts
        self.talk.payer(
            f"You've reached the {f.payer_name} claims department. Our office is currently closed or all "
            "representatives are busy. Please leave your name, number and a brief message after the tone."
        )
        self.talk.wait(2)

    def ivr_dead_end(self) -> None:
        f, talk = self.facts, self.talk
        talk.payer(f"Thank you for calling {f.payer_name}. Please say or enter the provider's NPI.")
        talk.bot(speech.digits(f.npi) + ".")
        talk.payer("I'm sorry, I didn't get that. Please enter the ten-digit NPI using your keypad.")
        talk.press(f.npi)
        talk.payer("I'm sorry, I still couldn't find that provider.")
        talk.bot("Representative.")
        talk.payer("We are unable to complete your request. Please try again later. Goodbye.")

    def endless_hold(self, max_duration: int) -> None:
        self.menu()
        self.talk.payer("All of our representatives are assisting other callers. Please continue to hold.")
        self.talk.wait(max_duration)

    def summary(self, outcome: str) -> str:
        """A one-line summary like Vapi's ``analysis.summary``."""
        f, said = self.facts, self.said
        who = f"{self.rep_name} at {f.payer_name}"
        ref = f" Call reference {self.reference}." if self.reference else ""
        claim = f"claim {f.claim_number} (DOS {f.date_of_service:%Y-%m-%d})"
        paid = f"${said['paid_amount']:,.2f}" if "paid_amount" in said else ""
        paid_on = f"{said['payment_date']:%Y-%m-%d}" if "payment_date" in said else ""
        follow_up = f"call back in {said.get('follow_up_days')} days"
        code = said.get("denial_code")
        lines = {
            "paid": f"{who} confirmed {claim} was paid {paid} on {paid_on}.",
            "partially_paid": f"{who} said {claim} was partially paid, {paid}, with {code} on the rest.",
            "denied": f"{who} said {claim} is denied {code}.",
            "in_process": f"{who} said {claim} is in process; {follow_up}.",
            "pending_info": f"{who} said {claim} is pended for {said.get('missing')}.",
            "not_on_file": f"{who} found no {claim} on file; it needs to be resubmitted.",
            "reprocessing": f"{who} sent {claim} back for reprocessing; {follow_up}.",
            "voicemail": f"The call reached the {f.payer_name} voicemail; no claim information was obtained.",
            "ivr_failure": f"The {f.payer_name} phone menu could not verify the provider and ended the call.",
            "hold_too_long": f"The call stayed on hold at {f.payer_name} until the maximum call length.",
        }
        return lines[outcome] + (ref if outcome not in FAILURES else "")
