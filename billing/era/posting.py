"""Post an 835 remittance: preview it, then post all of it in one database transaction.

One uploaded file is one ``Remittance`` row (a file with several BPR/TRN payments posts
them together, as the biller saw them in one preview), with one ``RemittanceClaim`` per
CLP. ``preview`` reads, balances and matches the file and stores it; it refuses, writing
nothing, a file that cannot be read, does not balance, or was already posted.
``post_remittance`` turns it into ledger postings through ``billing.posting.post_many``:

* the deposit: Dr CASH / Cr ERA_CLEARING for each BPR02, with a ``Payment`` row;
* each matched CLP: Dr ERA_CLEARING / Cr the claim's receivable for the payer level
  (CLP02 1/19 primary, 2/20 secondary, 3/21 tertiary), then its CAS by group and reason
  (claim and service-line level summed per reason): CO → contractual (CO-29 → timely-filing
  write-off), PR → transfer to the patient (on a crossover, 19/20, to the next payer),
  anything else (OA, PI, CR) → other adjustment. A denial (CLP02 4, 23, 25) posts no
  adjustment: the balance stays owed while the biller appeals; the claim moves to denied;
* a reversal (CLP02 22): reversals of the original ERA posting of that claim, paired with
  it (``reverses``), found by the payer's claim number and the amounts;
* PLB: Dr PROVIDER_ADJUSTMENT / Cr ERA_CLEARING with the sign kept (interest is negative),
  with no claim;
* a CLP that matched no claim (or a reversal with no original to pair): Dr ERA_CLEARING /
  Cr ERA_HELD, only when the biller chose to hold them. The unmatched queue posts it later
  (``post_held``): the hold is reversed and the claim's postings made as above.

So ERA_CLEARING returns to zero for every remittance, and ERA_HELD for every held CLP once
it is posted. Idempotency keys are ``era:<remittance>:<position>:<part>``: a retried post
replays the same keys.
"""

from __future__ import annotations

import copy
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from billing.era import matching
from billing.era.reader import Claim as ClaimPayment
from billing.era.reader import ERAError, read_835
from billing.era.reader import Payment as ERAPayment
from billing.era.reader import Remittance as ERAFile
from billing.models import (
    Account,
    AdjustmentReason,
    JournalTransaction,
    LedgerEntry,
    Payment,
    Remittance,
    RemittanceClaim,
    Responsibility,
)
from billing.posting import Kind, Leg, Posting, PostingError, Source, post_many, reversal_of
from billing.services import match_expected_payments
from billingpulse.models import Practice, User
from claims.models import Claim, ClaimEvent, Payer
from claims.status import ClaimStatus, can_move
from inbox import services as inbox

ZERO = Decimal("0.00")
# pyx12 takes ~2 ms a claim: files up to this size are checked while the biller waits.
STRUCTURE_CHECK_LIMIT = 500

LEVELS = {
    "1": Responsibility.PRIMARY,
    "19": Responsibility.PRIMARY,
    "2": Responsibility.SECONDARY,
    "20": Responsibility.SECONDARY,
    "3": Responsibility.TERTIARY,
    "21": Responsibility.TERTIARY,
}
# Processed and forwarded to the next payer: what the patient would owe goes to that payer.
CROSSOVER_NEXT = {"19": Responsibility.SECONDARY, "20": Responsibility.TERTIARY, "21": Responsibility.PATIENT}
REVERSAL = "22"
# Denied, not ours (forwarded), predetermination only: recorded, nothing adjusted.
RECORD_ONLY = {"4", "23", "25"}
CLAIM_STATUS_LABELS = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to another payer",
    "20": "Processed as secondary, forwarded to another payer",
    "21": "Processed as tertiary, forwarded to another payer",
    "22": "Reversal of a previous payment",
    "23": "Not our claim, forwarded",
    "25": "Predetermination only",
}
GROUPS = {"CO": "Contractual obligation", "PR": "Patient responsibility", "OA": "Other", "PI": "Payer initiated"}
GROUPS["CR"] = "Correction or reversal"
PLB_LABELS = {
    "WO": "Overpayment recovery",
    "L6": "Interest",
    "72": "Authorized return",
    "CS": "Adjustment",
    "FB": "Forwarding balance",
    "CV": "Capital pass-through",
    "J1": "Non-reimbursable",
    "LE": "Levy",
    "B2": "Rebate",
}
METHODS = {"ACH": Payment.Method.EFT, "FWT": Payment.Method.EFT, "CHK": Payment.Method.CHECK}
TIMELY_FILING_CARC = "29"


class RemittanceRefused(ERAError):
    """A file or a posting that is refused; ``problems`` lists every reason (the message, the first)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


# ---------------------------------------------------------------------------- balancing


@dataclass
class Rule:
    """One of the four TR3 balancing rules, with every claim or payment that breaks it."""

    name: str
    formula: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def balancing_rules(era: ERAFile) -> list[Rule]:
    rules = [
        Rule("Payment", "BPR02 = Σ CLP04 − Σ PLB"),
        Rule("Claim", "CLP03 − all CAS = CLP04"),
        Rule("Claim lines", "Σ SVC03 − claim CAS = CLP04"),
        Rule("Service line", "SVC02 − line CAS = SVC03"),
    ]
    payment_rule, claim_rule, lines_rule, line_rule = rules
    for payment in era.payments:
        for clp in payment.claims:
            claim_cas = _sum(a.amount for a in clp.adjustments)
            line_cas = ZERO
            for n, line in enumerate(clp.lines, 1):
                cas = _sum(a.amount for a in line.adjustments)
                line_cas += cas
                if line.charge - cas != line.paid:
                    line_rule.failures.append(
                        f"Claim {clp.claim_number}, line {n} ({line.code}): charge {line.charge} less adjustments "
                        f"{cas} is {line.charge - cas}, but {line.paid} was paid."
                    )
            if clp.lines:
                lines_paid = _sum(line.paid for line in clp.lines)
                if lines_paid - claim_cas != clp.paid:
                    lines_rule.failures.append(
                        f"Claim {clp.claim_number}: its lines paid {lines_paid} less claim adjustments {claim_cas} "
                        f"is {lines_paid - claim_cas}, but the claim says {clp.paid} was paid."
                    )
            if clp.charge - claim_cas - line_cas != clp.paid:
                claim_rule.failures.append(
                    f"Claim {clp.claim_number}: charge {clp.charge} less all adjustments {claim_cas + line_cas} "
                    f"is {clp.charge - claim_cas - line_cas}, but {clp.paid} was paid."
                )
        expected = _sum(c.paid for c in payment.claims) - _sum(p.amount for p in payment.provider_adjustments)
        if payment.amount != expected:
            payment_rule.failures.append(
                f"Payment {payment.trace or payment.control_number}: claims paid less provider adjustments is "
                f"{expected}, but the payment amount (BPR02) is {payment.amount}."
            )
    return rules


# ---------------------------------------------------------------------------- preview


def read(data: bytes | str) -> ERAFile:
    """Read an 835 that can be posted: refuses (``RemittanceRefused``) what cannot be read or does not balance."""
    try:
        era = read_835(data)
    except ERAError as error:
        raise RemittanceRefused(str(error)) from None
    broken = [(rule, failure) for rule in balancing_rules(era) for failure in rule.failures]
    if broken:
        rule, failure = broken[0]
        more = f" ({len(broken) - 1} more problems)" if len(broken) > 1 else ""
        raise RemittanceRefused(
            f"This remittance does not balance, so nothing was posted. {rule.name} rule ({rule.formula}): "
            f"{failure}{more}",
            [f"{rule.name} rule ({rule.formula}): {failure}" for rule, failure in broken],
        )
    return era


def duplicate_key(era: ERAFile) -> str:
    """The remittance's identity: each payment's payer, trace number, date and amounts."""
    parts = sorted(
        "|".join(
            (
                p.payer_id.upper(),
                p.trace.upper(),
                str(p.amount),
                p.payment_date.isoformat() if p.payment_date else "",
                str(_sum(c.paid for c in p.claims)),
                str(len(p.claims)),
            )
        )
        for p in era.payments
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def first_posting(practice: Practice | int, key: str, sha256: str) -> Remittance | None:
    posted = Remittance.objects.filter(practice=practice, status=Remittance.Status.POSTED)
    return (
        posted.filter(models.Q(duplicate_key=key) | models.Q(content_sha256=sha256)).select_related("posted_by").first()
    )


def duplicate_message(first: Remittance) -> str:
    zone = ZoneInfo(first.practice.time_zone)
    when = timezone.localtime(first.posted_at, zone).strftime("%m/%d/%Y %I:%M %p %Z") if first.posted_at else "earlier"
    who = first.posted_by.display_name if first.posted_by else "an unknown user"
    return (
        f"This remittance was already posted on {when} by {who} (remittance #{first.pk}, trace "
        f"{first.trace_number or 'none'}, ${first.payment_amount:,}). The same remittance is never posted twice."
    )


@transaction.atomic
def preview(
    practice: Practice,
    data: bytes | str,
    *,
    file_name: str = "",
    actor: User | None = None,
    check_structure: bool | None = None,
) -> Remittance:
    """Read, balance and match an 835 and store it for the biller to review (status PREVIEW).

    Refuses with ``RemittanceRefused`` (writing nothing) a file that is not a complete 835,
    does not balance, or was already posted. Uploading a file already waiting in preview
    returns that preview. ``check_structure`` runs pyx12 (default: for files of fewer than
    ``STRUCTURE_CHECK_LIMIT`` claims).
    """
    content = data.encode() if isinstance(data, str) else bytes(data)
    sha256 = hashlib.sha256(content).hexdigest()
    era = read(content)
    key = duplicate_key(era)
    first = first_posting(practice, key, sha256)
    if first is not None:
        raise RemittanceRefused(duplicate_message(first))
    waiting = Remittance.objects.filter(
        practice=practice, status=Remittance.Status.PREVIEW, content_sha256=sha256
    ).first()
    if waiting is not None:
        return waiting
    payments = era.payments
    claim_count = sum(len(p.claims) for p in payments)
    if check_structure is None:
        check_structure = claim_count < STRUCTURE_CHECK_LIMIT
    remittance = Remittance.objects.create(
        practice=practice,
        file_name=file_name[:255],
        content=content,
        content_sha256=sha256,
        payer=_payer(practice, payments[0]),
        payer_identifier=payments[0].payer_id[:80],
        payer_name=payments[0].payer_name[:200],
        trace_number=", ".join(p.trace for p in payments)[:80],
        payment_amount=_sum(p.amount for p in payments),
        payment_method=_method(_bpr04s(content)[0]),
        payment_date=payments[0].payment_date,
        claim_count=claim_count,
        duplicate_key=key,
        uploaded_by=actor,
        summary={"preview": _preview_summary(era, content, check_structure)},
    )
    matches = matching.match_claims(practice, era)
    rows = [_claim_row(remittance, position, match) for position, match in enumerate(matches, 1)]
    _mark_reversals(rows)
    RemittanceClaim.objects.bulk_create(rows, batch_size=500)
    return remittance


def _preview_summary(era: ERAFile, content: bytes, check_structure: bool) -> dict:
    structure: dict = {"checked": False, "problems": []}
    if check_structure:
        from billing.era.validation import structural_problems

        structure = {"checked": True, "problems": structural_problems(content)}
    else:
        structure["note"] = (
            f"The structure check (pyx12) takes about 2 ms a claim, so it runs only on files of fewer than "
            f"{STRUCTURE_CHECK_LIMIT} claims; the balancing rules and envelope counts were checked."
        )
    return {
        "rules": [
            {"name": r.name, "formula": r.formula, "passed": r.passed, "failures": r.failures}
            for r in balancing_rules(era)
        ],
        "structure": structure,
        "warnings": list(era.warnings),
        "payments": [
            {
                "trace": p.trace,
                "amount": str(p.amount),
                "method": _method(method),
                "date": p.payment_date.isoformat() if p.payment_date else None,
                "payer_id": p.payer_id,
                "payer_name": p.payer_name,
                "claims": len(p.claims),
                "provider_adjustments": [
                    {
                        "code": a.code,
                        "label": PLB_LABELS.get(a.code, a.code),
                        "reference": a.reference,
                        "amount": str(a.amount),
                    }
                    for a in p.provider_adjustments
                ],
            }
            for p, method in zip(era.payments, _bpr04s(content), strict=False)
        ],
    }


def _method(bpr04: str) -> str:
    return METHODS.get(bpr04, Payment.Method.OTHER)


def _bpr04s(content: bytes) -> list[str]:
    """Each payment's BPR04 (ACH, CHK, FWT, BOP, NON), in order; the reader keeps only BPR01."""
    text = content.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    element, terminator = text[3], text[105]
    found = []
    for raw in text.split(terminator):
        seg = raw.strip(" \t\r\n").split(element)
        if seg[0] == "BPR":
            found.append(seg[4].strip() if len(seg) > 4 else "")
    return found


def _payer(practice: Practice, payment: ERAPayment) -> Payer | None:
    """Our payer for the file's: by payer ID (TRN03, with or without its leading 1), else by name."""
    payers = Payer.objects.filter(practice=practice)
    ids = {i for i in (payment.payer_id, payment.payer_id[1:] if payment.payer_id[:1] == "1" else "") if i}
    found = payers.filter(payer_id__in=ids).order_by("pk").first() if ids else None
    if found is None and payment.payer_name:
        found = payers.filter(name__iexact=payment.payer_name).order_by("pk").first()
    return found


def _claim_row(remittance: Remittance, position: int, match: matching.ClaimMatch) -> RemittanceClaim:
    clp = match.clp
    detail = {
        "trace": match.payment.trace if match.payment else "",
        "match": match.reason,
        "matched_by": match.matched_by or "",
        "warnings": list(match.warnings),
        "candidates": [{"id": c.pk, "number": c.claim_number} for c in match.candidates],
        "adjustments": [_cas(a) for a in clp.adjustments],
        "lines": [
            {
                "code": line.code,
                "modifiers": list(line.modifiers),
                "date": line.service_date.isoformat() if line.service_date else None,
                "charge": str(line.charge),
                "paid": str(line.paid),
                "adjustments": [_cas(a) for a in line.adjustments],
            }
            for line in clp.lines
        ],
    }
    return RemittanceClaim(
        remittance=remittance,
        position=position,
        claim=match.claim,
        status=match.status,
        claim_number=clp.claim_number[:50],
        patient_name=clp.patient_name[:200],
        claim_status_code=clp.status[:2],
        charge=clp.charge,
        paid=clp.paid,
        patient_responsibility=clp.patient_responsibility,
        payer_claim_number=clp.payer_icn[:50],
        detail=detail,
        note=CLAIM_STATUS_LABELS.get(clp.status, f"Claim status {clp.status}"),
    )


def _cas(adjustment) -> dict:
    return {"group": adjustment.group, "reason": adjustment.reason, "amount": str(adjustment.amount)}


def _mark_reversals(rows: list[RemittanceClaim]) -> None:
    """Say in the preview which reversals have an original posting to pair with, and which would be held."""
    reversals = [row for row in rows if row.claim_status_code == REVERSAL and row.claim is not None]
    for row, (originals, problem) in zip(reversals, originals_for(reversals), strict=True):
        row.detail["hold"] = problem
        row.detail["reverses"] = [t.pk for t in originals]


# ---------------------------------------------------------------------------- reversals


def originals_for(rows: list[RemittanceClaim]) -> list[tuple[list[JournalTransaction], str]]:
    """For each reversal CLP (with its claim set): the open ERA transactions it takes back, or why there are none.

    The original is a posted CLP of an earlier remittance for the same claim with the payer's
    claim number the reversal names (else the same amounts, negated), not reversed yet. One
    query finds the earlier CLPs of every claim; transactions are read only for candidates.
    """
    earlier: dict[int, list[RemittanceClaim]] = defaultdict(list)
    claim_ids = sorted({row.claim_id for row in rows})
    for start in range(0, len(claim_ids), 500):
        found = (
            RemittanceClaim.objects.filter(
                claim_id__in=claim_ids[start : start + 500], status=RemittanceClaim.Status.POSTED
            )
            .exclude(claim_status_code=REVERSAL)
            .order_by("-posted_at", "-pk")
        )
        for item in found:
            earlier[item.claim_id].append(item)
    return [_originals(row, [e for e in earlier[row.claim_id] if e.remittance_id != row.remittance_id]) for row in rows]


def _originals(row: RemittanceClaim, earlier: list[RemittanceClaim]) -> tuple[list[JournalTransaction], str]:
    claim = row.claim
    candidates = [r for r in earlier if r.payer_claim_number and r.payer_claim_number == row.payer_claim_number]
    if not candidates:
        candidates = [r for r in earlier if r.paid == -row.paid and r.charge == -row.charge]
    for original in candidates:
        txns = list(
            JournalTransaction.objects.filter(
                practice_id=claim.practice_id,
                claim=claim,
                remittance_id=original.remittance_id,
                idempotency_key__startswith=f"era:{original.remittance_id}:{original.position}:",
                reversed_by__isnull=True,
            )
            .exclude(kind=Kind.REVERSAL)
            .select_related("claim__patient", "patient")
            .prefetch_related("entries")
            .order_by("pk")
        )
        if not txns:
            continue
        paid = _sum(t.amount for t in txns if t.kind == Kind.PAYMENT)
        if paid != -row.paid:
            return [], (
                f"The reversal takes back ${-row.paid:,}, but the posting it reverses (remittance "
                f"#{original.remittance_id}) paid ${paid:,}."
            )
        return txns, ""
    return [], f"No earlier ERA posting of claim {claim.claim_number} to reverse was found."


def assign_claim(row: RemittanceClaim, claim: Claim) -> RemittanceClaim:
    """In a preview, set the claim an unmatched or ambiguous CLP pays (the biller's choice)."""
    if row.remittance.status != Remittance.Status.PREVIEW:
        raise RemittanceRefused("This remittance is posted; post the held payment from the unmatched queue.")
    if row.remittance.practice_id != claim.practice_id:
        raise RemittanceRefused("No such claim.")
    row.claim, row.status = claim, RemittanceClaim.Status.MATCHED
    row.detail["match"] = f"Chosen by hand: claim {claim.claim_number}"
    row.detail["hold"] = ""
    if row.claim_status_code == REVERSAL:
        originals, problem = originals_for([row])[0]
        row.detail["hold"], row.detail["reverses"] = problem, [t.pk for t in originals]
    row.save(update_fields=["claim", "status", "detail"])
    return row


# ---------------------------------------------------------------------------- posting


@dataclass
class _Plan:
    postings: list[Posting] = field(default_factory=list)
    posted_rows: list[RemittanceClaim] = field(default_factory=list)
    held_rows: list[RemittanceClaim] = field(default_factory=list)
    denied: list[tuple[Claim, str]] = field(default_factory=list)


def needs_hold(row: RemittanceClaim, *, reversal: bool = True) -> str:
    """Why a CLP of a preview would be held rather than posted, or ''."""
    if row.status == RemittanceClaim.Status.UNMATCHED:
        return row.detail.get("match") or "No claim matched."
    if row.status == RemittanceClaim.Status.AMBIGUOUS:
        return row.detail.get("match") or "Several claims fit; choose one."
    if reversal and row.claim_status_code == REVERSAL and row.detail.get("hold"):
        return row.detail["hold"]
    return ""


def post_remittance(remittance: Remittance, *, actor: User | None, hold_unmatched: bool = False) -> dict:
    """Post the whole remittance in one database transaction, or refuse (``RemittanceRefused``) and post nothing.

    CLPs matched to no claim are refused unless ``hold_unmatched``: then their payments are held
    (ERA_HELD) for the unmatched queue. Posting a remittance already posted returns its summary.
    """
    try:
        with transaction.atomic():
            return _post(remittance, actor=actor, hold_unmatched=hold_unmatched)
    except PostingError as error:
        raise RemittanceRefused(f"Nothing was posted: {' '.join(error.messages)}") from None


def _post(remittance: Remittance, *, actor: User | None, hold_unmatched: bool) -> dict:
    rem = Remittance.objects.select_for_update(of=("self",)).select_related("practice", "payer").get(pk=remittance.pk)
    if rem.status == Remittance.Status.POSTED:
        return rem.summary.get("posted", {})
    if rem.status != Remittance.Status.PREVIEW:
        raise RemittanceRefused("This remittance was refused and cannot be posted.")
    era = read(bytes(rem.content))
    first = first_posting(rem.practice_id, rem.duplicate_key, rem.content_sha256)
    if first is not None:
        raise RemittanceRefused(duplicate_message(first))
    rows = list(rem.claim_payments.select_related("claim__patient").order_by("position"))
    for row in rows:
        row.stored_detail = copy.deepcopy(row.detail)
    clps = [clp for payment in era.payments for clp in payment.claims]
    reversals = [
        r for r in rows if r.claim_status_code == REVERSAL and r.claim_id and not needs_hold(r, reversal=False)
    ]
    paired = dict(zip((r.pk for r in reversals), originals_for(reversals), strict=True))
    plan = _Plan()
    for row, clp in zip(rows, clps, strict=True):
        _plan_claim(plan, rem, row, clp, paired.get(row.pk), actor)
    if plan.held_rows and not hold_unmatched:
        n = len(plan.held_rows)
        reasons = [f"CLP {r.position} ({r.claim_number}): {needs_hold(r) or r.note}" for r in plan.held_rows]
        raise RemittanceRefused(
            f"{n} claim payment{'s' if n != 1 else ''} cannot be posted to a claim yet. Match "
            f"{'them' if n != 1 else 'it'} first, or choose to post the matched claims and hold the rest "
            "in the unmatched queue.",
            reasons,
        )
    # Claim the remittance's identity first: a concurrent post of the same ERA waits here, then fails.
    now = timezone.now()
    try:
        with transaction.atomic():
            Remittance.objects.filter(pk=rem.pk).update(
                status=Remittance.Status.POSTED, posted_by=actor, posted_at=now, updated_at=now
            )
    except IntegrityError:
        first = first_posting(rem.practice_id, rem.duplicate_key, rem.content_sha256)
        raise RemittanceRefused(duplicate_message(first) if first else "This remittance was just posted.") from None
    deposits = _deposits(rem, era, actor)
    plbs = _provider_adjustments(rem, era, actor)
    postings = [*deposits, *plan.postings, *plbs]
    clearing = sum((leg.amount for p in postings for leg in p.legs if leg.account == Account.ERA_CLEARING), ZERO)
    if clearing != 0:  # the balancing rules make this impossible; never post a clearing balance
        raise RemittanceRefused(f"Nothing was posted: ERA clearing would be left at {clearing}.")
    txns = post_many(rem.practice, postings)
    match_expected_payments([t for t in txns if t.claim_id])
    # One UPDATE for the posted rows; a row-by-row bulk_update only for those whose detail changed
    # (a reversal's originals, a hold reason new since the preview): Django's CASE WHEN bulk_update
    # of 5,000 rows took seconds.
    posted_ids = [row.pk for row in plan.posted_rows]
    for start in range(0, len(posted_ids), 900):
        RemittanceClaim.objects.filter(pk__in=posted_ids[start : start + 900]).update(
            status=RemittanceClaim.Status.POSTED, posted_at=now
        )
    changed = [row for row in (*plan.posted_rows, *plan.held_rows) if row.detail != row.stored_detail]
    for row in plan.posted_rows:
        row.status, row.posted_at = RemittanceClaim.Status.POSTED, now
    RemittanceClaim.objects.bulk_update(changed, ["note", "detail"], batch_size=500)
    _mark_denied(plan.denied, actor)
    # The needs-action inbox: a held payment needs a person to find its claim.
    inbox.era_payments_held(plan.held_rows)
    summary = _summary(rem, era, txns, plan)
    rem.status, rem.posted_by, rem.posted_at = Remittance.Status.POSTED, actor, now
    rem.summary = {**rem.summary, "posted": summary}
    rem.save(update_fields=["summary", "updated_at"])
    return summary


def _plan_claim(plan: _Plan, rem: Remittance, row: RemittanceClaim, clp: ClaimPayment, paired, actor) -> None:
    prefix = f"era:{rem.pk}:{row.position}"
    reason = needs_hold(row, reversal=False)
    if not reason and paired is not None:
        originals, reason = paired
        if originals:
            plan.postings.extend(_reversals(rem, row, originals, prefix, actor))
    elif not reason:
        plan.postings.extend(claim_postings(rem, row.claim, clp, prefix=prefix, actor=actor))
    if reason:
        if row.claim_status_code == REVERSAL:
            row.detail["hold"] = reason  # unmatched rows keep theirs in detail["match"]
        plan.held_rows.append(row)
        if clp.paid:
            plan.postings.append(
                Posting(
                    kind=Kind.PAYMENT,
                    source=Source.ERA,
                    legs=[Leg(Account.ERA_CLEARING, clp.paid), Leg(Account.ERA_HELD, -clp.paid)],
                    idempotency_key=f"{prefix}:hold",
                    remittance=rem,
                    memo=f"Held until matched to a claim: CLP {clp.claim_number} of ERA {rem.trace_number}"[:300],
                    effective_date=_effective(rem),
                    actor=actor,
                )
            )
        return
    plan.posted_rows.append(row)
    if clp.status in RECORD_ONLY:
        plan.denied.append((row.claim, _denial_text(clp)))


def claim_postings(rem: Remittance, claim: Claim, clp: ClaimPayment, *, prefix: str, actor) -> list[Posting]:
    """The payment and CAS adjustments of one (non-reversal) CLP on ``claim``."""
    level = LEVELS.get(clp.status, Responsibility.PRIMARY)
    receivable = level.account
    common = {
        "source": Source.ERA,
        "claim": claim,
        "remittance": rem,
        "effective_date": _effective(rem),
        "actor": actor,
    }
    trace = f"ERA {rem.trace_number}" if rem.trace_number else "ERA"
    postings = []
    if clp.paid:
        postings.append(
            Posting(
                kind=Kind.PAYMENT,
                legs=[Leg(Account.ERA_CLEARING, clp.paid), Leg(receivable, -clp.paid)],
                idempotency_key=f"{prefix}:paid",
                memo=f"{trace}: {level.label.lower()} paid (CLP {clp.claim_number})"[:300],
                **common,
            )
        )
    if clp.status in RECORD_ONLY:
        return postings
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for adjustment in (*clp.adjustments, *(a for line in clp.lines for a in line.adjustments)):
        totals[(adjustment.group, adjustment.reason)] += adjustment.amount
    for (group, carc), amount in totals.items():
        if not amount:
            continue
        label = f"{group}-{carc}"
        key = f"{prefix}:{label}"[:120]
        if group == "PR":
            target = CROSSOVER_NEXT.get(clp.status, Responsibility.PATIENT)
            postings.append(
                Posting(
                    kind=Kind.TRANSFER,
                    legs=[Leg(target.account, amount), Leg(receivable, -amount)],
                    idempotency_key=key,
                    carc_group=group,
                    carc_code=carc[:5],
                    memo=f"{trace}: {label} moved to {target.label.lower()}"[:300],
                    **common,
                )
            )
            continue
        if group == "CO":
            reason = AdjustmentReason.TIMELY_FILING if carc == TIMELY_FILING_CARC else AdjustmentReason.CONTRACTUAL
        else:
            reason = AdjustmentReason.OTHER
        kind = Kind.WRITE_OFF if reason == AdjustmentReason.TIMELY_FILING else Kind.ADJUSTMENT
        postings.append(
            Posting(
                kind=kind,
                legs=[Leg(reason.account, amount), Leg(receivable, -amount)],
                idempotency_key=key,
                reason=reason,
                carc_group=group[:2],
                carc_code=carc[:5],
                memo=f"{trace}: {label} {GROUPS.get(group, group).lower()}"[:300],
                **common,
            )
        )
    return postings


def _reversals(rem: Remittance, row: RemittanceClaim, originals, prefix: str, actor) -> list[Posting]:
    postings = []
    row.detail["reverses"] = [t.pk for t in originals]
    for original in originals:
        posting = reversal_of(original, reason=f"Reversed by ERA {rem.trace_number} (CLP {row.position})", actor=actor)
        posting.source, posting.remittance, posting.payment = Source.ERA, rem, None
        posting.idempotency_key = f"{prefix}:rev:{original.pk}"
        posting.effective_date = _effective(rem)
        postings.append(posting)
    return postings


def _deposits(rem: Remittance, era: ERAFile, actor) -> list[Posting]:
    postings = []
    methods = _bpr04s(bytes(rem.content))
    for n, payment in enumerate(era.payments, 1):
        if not payment.amount:
            continue  # a non-payment (BPR01 H, amount 0): nothing deposited
        row = None
        if payment.amount > 0:
            row = Payment(
                practice=rem.practice,
                payer=rem.payer,
                remittance=rem,
                method=_method(methods[n - 1] if n <= len(methods) else ""),
                source=Payment.Source.PRIMARY,
                amount=payment.amount,
                reference=payment.trace[:60],
                payment_date=_effective(rem, payment.payment_date),
                deposit_date=_effective(rem, payment.payment_date),
                memo=f"ERA from {payment.payer_name}"[:300],
                created_by=actor,
            )
            row.full_clean()
            row.save()
        postings.append(
            Posting(
                kind=Kind.PAYMENT,
                source=Source.ERA,
                legs=[Leg(Account.CASH, payment.amount), Leg(Account.ERA_CLEARING, -payment.amount)],
                idempotency_key=f"era:{rem.pk}:deposit:{n}",
                payment=row,
                remittance=rem,
                memo=f"ERA deposit, trace {payment.trace}"[:300],
                effective_date=_effective(rem, payment.payment_date),
                actor=actor,
            )
        )
    return postings


def _provider_adjustments(rem: Remittance, era: ERAFile, actor) -> list[Posting]:
    postings = []
    n = 0
    for payment in era.payments:
        for adjustment in payment.provider_adjustments:
            n += 1
            if not adjustment.amount:
                continue
            label = PLB_LABELS.get(adjustment.code, adjustment.code)
            ref = f" {adjustment.reference}" if adjustment.reference else ""
            postings.append(
                Posting(
                    kind=Kind.PROVIDER_ADJUSTMENT,
                    source=Source.ERA,
                    legs=[
                        Leg(Account.PROVIDER_ADJUSTMENT, adjustment.amount),
                        Leg(Account.ERA_CLEARING, -adjustment.amount),
                    ],
                    idempotency_key=f"era:{rem.pk}:plb:{n}",
                    remittance=rem,
                    carc_code=adjustment.code[:5],
                    memo=f"PLB {adjustment.code} {label}{ref}, trace {payment.trace}"[:300],
                    effective_date=_effective(rem, payment.payment_date),
                    actor=actor,
                )
            )
    return postings


def _effective(rem: Remittance, day: date | None = None) -> date:
    day = day or rem.payment_date
    if day is not None and date(1900, 1, 1) <= day <= date(2199, 12, 31):
        return day
    return timezone.localdate()


def _denial_text(clp: ClaimPayment) -> str:
    codes = sorted(
        {f"{a.group}-{a.reason}" for a in (*clp.adjustments, *(x for ln in clp.lines for x in ln.adjustments))}
    )
    return f"Denied on the remittance (ERA){': ' + ', '.join(codes) if codes else ''}."[:300]


def _mark_denied(denied: list[tuple[Claim, str]], actor) -> None:
    """Move denied claims to denied through the status machine, in batches (a conditional update each)."""
    now = timezone.now()
    by_status: dict[str, list[tuple[Claim, str]]] = defaultdict(list)
    for claim, text in denied:
        if claim.status != ClaimStatus.DENIED and can_move(claim.status, ClaimStatus.DENIED):
            by_status[claim.status].append((claim, text))
    events = []
    for from_status, items in by_status.items():
        ids = [claim.pk for claim, _ in items]
        Claim.objects.filter(pk__in=ids, status=from_status).update(
            status=ClaimStatus.DENIED, status_changed_at=now, updated_at=now
        )
        inbox.claims_denied_by_era([claim for claim, _ in items])
        for claim, text in items:
            events.append(
                ClaimEvent(
                    claim=claim,
                    kind=ClaimEvent.Kind.STATUS_CHANGED,
                    from_status=from_status,
                    to_status=ClaimStatus.DENIED,
                    message=text,
                    actor=actor,
                    source="era",
                )
            )
    ClaimEvent.objects.bulk_create(events, batch_size=500)


def _summary(rem: Remittance, era: ERAFile, txns: list[JournalTransaction], plan: _Plan) -> dict:
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    for txn in txns:
        by_kind[txn.kind] += txn.amount
    claim_paid = _sum(t.amount for t in txns if t.kind == Kind.PAYMENT and t.claim_id)
    held = _sum(r.paid for r in plan.held_rows)
    plb = _sum(a.amount for p in era.payments for a in p.provider_adjustments)
    return {
        "remittance": rem.pk,
        "payment_amount": str(rem.payment_amount),
        "claims_posted": len(plan.posted_rows),
        "claims_held": len(plan.held_rows),
        "held_amount": str(held),
        "paid_to_claims": str(claim_paid),
        "reversals": sum(1 for t in txns if t.kind == Kind.REVERSAL),
        "reversed_amount": str(by_kind.get(Kind.REVERSAL, ZERO)),
        "adjustments": str(by_kind.get(Kind.ADJUSTMENT, ZERO) + by_kind.get(Kind.WRITE_OFF, ZERO)),
        "to_patient": str(by_kind.get(Kind.TRANSFER, ZERO)),
        "provider_adjustments": str(plb),
        "denied": len(plan.denied),
        "transactions": len(txns),
    }


# ---------------------------------------------------------------------------- the unmatched queue


def held_queue(practice: Practice | int) -> models.QuerySet[RemittanceClaim]:
    """CLPs of posted remittances still waiting for a claim, oldest first."""
    return (
        RemittanceClaim.objects.filter(remittance__practice=practice, remittance__status=Remittance.Status.POSTED)
        .exclude(status=RemittanceClaim.Status.POSTED)
        .select_related("remittance", "claim")
        .order_by("remittance__posted_at", "remittance_id", "position")
    )


def post_held(row: RemittanceClaim, claim: Claim, *, actor: User | None) -> list[JournalTransaction]:
    """Post a held CLP to ``claim``: release its hold and post its payment, adjustments or reversal."""
    try:
        with transaction.atomic():
            return _post_held(row, claim, actor=actor)
    except PostingError as error:
        raise RemittanceRefused(f"Nothing was posted: {' '.join(error.messages)}") from None


def _post_held(row: RemittanceClaim, claim: Claim, *, actor) -> list[JournalTransaction]:
    row = RemittanceClaim.objects.select_for_update(of=("self",)).select_related("remittance").get(pk=row.pk)
    rem = row.remittance
    if rem.practice_id != claim.practice_id:
        raise RemittanceRefused("No such claim.")
    if rem.status != Remittance.Status.POSTED:
        raise RemittanceRefused("Post the remittance first; this claim payment is still in its preview.")
    if row.status == RemittanceClaim.Status.POSTED:
        raise RemittanceRefused(f"This claim payment was already posted to claim {row.claim or ''}.".replace(" .", "."))
    era = read_835(bytes(rem.content))
    clp = [c for p in era.payments for c in p.claims][row.position - 1]
    prefix = f"era:{rem.pk}:{row.position}"
    postings = []
    hold = JournalTransaction.objects.filter(practice_id=rem.practice_id, idempotency_key=f"{prefix}:hold").first()
    if hold is not None:
        release = reversal_of(hold, reason=f"Released to claim {claim.claim_number}", actor=actor)
        release.source, release.idempotency_key = Source.ERA, f"{prefix}:release"
        postings.append(release)
    row.claim = claim
    if clp.status == REVERSAL:
        originals, problem = originals_for([row])[0]
        if problem:
            raise RemittanceRefused(problem)
        postings.extend(_reversals(rem, row, originals, f"{prefix}:q", actor))
    else:
        postings.extend(claim_postings(rem, claim, clp, prefix=f"{prefix}:q", actor=actor))
    txns = post_many(rem.practice, postings)
    match_expected_payments([t for t in txns if t.claim_id])
    if clp.status in RECORD_ONLY:
        _mark_denied([(Claim.objects.get(pk=claim.pk), _denial_text(clp))], actor)
    row.status, row.posted_at = RemittanceClaim.Status.POSTED, timezone.now()
    row.detail["hold"] = ""
    row.note = f"Matched by hand to claim {claim.claim_number}"[:300]
    row.save(update_fields=["status", "posted_at", "claim", "detail", "note"])
    inbox.era_payment_posted(row)
    return txns


def clearing_balance(remittance: Remittance) -> Decimal:
    """Σ ERA_CLEARING entries of the remittance's transactions: zero once it is posted."""
    entries = LedgerEntry.objects.filter(transaction__remittance=remittance, account=Account.ERA_CLEARING)
    # Summed here: SQLite's SUM of a decimal column is a float.
    return _sum(entries.values_list("amount", flat=True))


def _sum(values) -> Decimal:
    return sum(values, ZERO)
