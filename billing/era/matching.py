"""Match the claim payments (CLP) of a read 835 to the practice's claims, for the posting preview.

For each CLP, in order, the first rule that finds any claim decides:

1. **Claim number.** CLP01 (the claim number we sent) equals one of the practice's claim numbers,
   ignoring case. If numbers differing only in case exist, the one spelled exactly like CLP01 wins.
2. **The payer's claim number.** CLP07 (the payer's control number) equals one of our claim
   numbers, for practices whose claims were imported under the payer's number.
3. **Patient and date of service.** The claim's patient has the remittance patient's last and
   first name (NM1*QC, ignoring case and spacing) and the claim's date of service equals the
   remittance's (DTM*232, else the earliest service line date). Where the remittance carries a
   member ID (NM1*IL, else NM1*QC) and the claim's policy has one, they must agree; a claim whose
   member ID agrees is preferred to one whose policy does not say.

One claim is a match, several are ambiguous (the biller chooses), none is unmatched. Every query
is scoped to the practice, and the queries are batched: one per chunk of claim numbers and one
per chunk of patient look-ups, never one per CLP.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from django.db import connection, models
from django.db.models.functions import Upper

from billing.era.reader import Claim as ClaimPayment
from billing.era.reader import Payment, Remittance
from billingpulse.models import Practice
from claims.models import Claim

# Bound on the values in one IN (...) list; SQLite allows 999 parameters per statement.
_MAX_CHUNK = 2000


class MatchStatus(models.TextChoices):
    MATCHED = "matched", "Matched"
    AMBIGUOUS = "ambiguous", "Several claims fit"
    UNMATCHED = "unmatched", "No claim found"


class MatchedBy(models.TextChoices):
    CLAIM_NUMBER = "claim_number", "Claim number"
    PAYER_CLAIM_NUMBER = "payer_claim_number", "Payer's claim number"
    PATIENT_AND_DATE = "patient_and_date", "Patient and date of service"


@dataclass(frozen=True)
class ClaimMatch:
    """What the preview shows for one CLP: the claim it pays, or why there is none."""

    clp: ClaimPayment
    status: MatchStatus
    claim: Claim | None
    reason: str
    # The claims that fit when ``status`` is ambiguous (else empty), in claim-number order.
    candidates: tuple[Claim, ...] = ()
    matched_by: MatchedBy | None = None
    # Disagreements worth a look on a match by number: another patient or date of service.
    warnings: tuple[str, ...] = ()
    payment: Payment | None = field(default=None, repr=False, compare=False)

    @property
    def is_matched(self) -> bool:
        return self.status == MatchStatus.MATCHED


def match_claims(practice: Practice | int, remittance: Remittance) -> list[ClaimMatch]:
    """One ``ClaimMatch`` per CLP of ``remittance``, in file order, against ``practice``'s claims."""
    pairs = [(payment, clp) for payment in remittance.payments for clp in payment.claims]
    by_number = _claims_by_number(practice, {_upper(n) for _, clp in pairs for n in _numbers(clp)})

    matches: dict[int, ClaimMatch] = {}
    fallback: list[int] = []
    for i, (payment, clp) in enumerate(pairs):
        match = _match_by_number(clp, by_number)
        if match is None:
            fallback.append(i)
        else:
            matches[i] = replace(match, payment=payment)

    by_patient = _claims_by_patient(practice, [pairs[i][1] for i in fallback])
    for i in fallback:
        payment, clp = pairs[i]
        matches[i] = replace(_match_by_patient(clp, by_patient), payment=payment)
    return [matches[i] for i in range(len(pairs))]


# ---------------------------------------------------------------------------- by claim number


def _numbers(clp: ClaimPayment) -> Iterator[str]:
    yield from (n for n in (clp.claim_number, clp.payer_icn) if n.strip())


def _claims_by_number(practice: Practice | int, numbers: set[str]) -> dict[str, list[Claim]]:
    """The practice's claims whose upper-cased number is in ``numbers`` (uses ``claim_number_upper``)."""
    found: dict[str, list[Claim]] = defaultdict(list)
    base = _claims(practice).alias(number_upper=Upper("claim_number"))
    for chunk in _chunks(sorted(numbers), _chunk_size(1)):
        for claim in base.filter(number_upper__in=chunk):
            found[_upper(claim.claim_number)].append(claim)
    return found


def _match_by_number(clp: ClaimPayment, by_number: dict[str, list[Claim]]) -> ClaimMatch | None:
    for number, matched_by in (
        (clp.claim_number, MatchedBy.CLAIM_NUMBER),
        (clp.payer_icn, MatchedBy.PAYER_CLAIM_NUMBER),
    ):
        claims = by_number.get(_upper(number), []) if number.strip() else []
        exact = [c for c in claims if c.claim_number == number.strip()]
        if len(exact) == 1:
            claims = exact
        if len(claims) == 1:
            what = "Claim number" if matched_by == MatchedBy.CLAIM_NUMBER else "The payer's claim number"
            return ClaimMatch(
                clp,
                MatchStatus.MATCHED,
                claims[0],
                f"{what} {number.strip()}",
                matched_by=matched_by,
                warnings=_disagreements(clp, claims[0]),
            )
        if claims:
            return ClaimMatch(
                clp,
                MatchStatus.AMBIGUOUS,
                None,
                f"{len(claims)} claims numbered {number.strip()} (differing only in case)",
                candidates=_ordered(claims),
                matched_by=matched_by,
            )
    return None


def _disagreements(clp: ClaimPayment, claim: Claim) -> tuple[str, ...]:
    found = []
    patient = claim.patient
    if clp.patient_last_name and not _same_patient(clp, patient.last_name, patient.first_name):
        found.append(f"The remittance names the patient {clp.patient_name}; this claim is for {patient.full_name}.")
    service_date = clp.first_service_date
    if service_date and service_date != claim.service_date_from:
        found.append(
            f"The remittance's date of service is {service_date.isoformat()}; "
            f"this claim's is {claim.service_date_from.isoformat()}."
        )
    return tuple(found)


# ---------------------------------------------------------------------------- by patient and date


def _claims_by_patient(practice: Practice | int, clps: list[ClaimPayment]) -> dict[tuple[str, date], list[Claim]]:
    """The practice's claims keyed by (patient's upper-cased last name, date of service), for the
    names and dates of ``clps``. Each chunk asks for every date with every name, a superset that
    the caller narrows to the exact pairs and first names."""
    keys = sorted(
        {(last, d) for clp in clps if (last := _norm(clp.patient_last_name)) and (d := clp.first_service_date)}
    )
    found: dict[tuple[str, date], list[Claim]] = defaultdict(list)
    base = _claims(practice).alias(last_upper=Upper("patient__last_name"))
    for chunk in _chunks(keys, _chunk_size(2)):
        wanted = set(chunk)
        queryset = base.filter(service_date_from__in={d for _, d in chunk}, last_upper__in={last for last, _ in chunk})
        for claim in queryset:
            key = (_norm(claim.patient.last_name), claim.service_date_from)
            if key in wanted:
                found[key].append(claim)
    return found


def _match_by_patient(clp: ClaimPayment, by_patient: dict[tuple[str, date], list[Claim]]) -> ClaimMatch:
    service_date = clp.first_service_date
    not_found = f"No claim numbered {clp.claim_number}" if clp.claim_number.strip() else "No claim number"
    last_name = _norm(clp.patient_last_name)
    if not last_name or service_date is None:
        gaps = (("patient name", not last_name), ("date of service", service_date is None))
        missing = " or ".join(what for what, gone in gaps if gone)
        return ClaimMatch(clp, MatchStatus.UNMATCHED, None, f"{not_found}, and the remittance gives no {missing}")

    on_date = service_date.isoformat()
    same_name = [
        c
        for c in by_patient.get((last_name, service_date), [])
        if _same_patient(clp, c.patient.last_name, c.patient.first_name)
    ]
    # The subscriber's id (NM1*IL) is what a policy holds; NM1*QC's when the patient is the subscriber.
    ids = {_upper(i) for i in (clp.subscriber_member_id, clp.patient_member_id) if i.strip()}
    agreeing: list[Claim] = []
    unknown: list[Claim] = []
    conflicting: list[Claim] = []
    for claim in same_name:
        member_id = _upper(claim.policy.member_id) if claim.policy_id else ""
        if not ids or not member_id:
            unknown.append(claim)
        elif member_id in ids:
            agreeing.append(claim)
        else:
            conflicting.append(claim)
    claims = agreeing or unknown
    patient = f"{clp.patient_last_name}, {clp.patient_first_name}".strip(", ")

    if len(claims) == 1:
        by_id = " and member ID" if agreeing else ""
        return ClaimMatch(
            clp,
            MatchStatus.MATCHED,
            claims[0],
            f"{not_found}; matched by patient {patient}{by_id} on {on_date}",
            matched_by=MatchedBy.PATIENT_AND_DATE,
        )
    if claims:
        return ClaimMatch(
            clp,
            MatchStatus.AMBIGUOUS,
            None,
            f"{len(claims)} claims for this patient on {on_date}",
            candidates=_ordered(claims),
            matched_by=MatchedBy.PATIENT_AND_DATE,
        )
    if conflicting:
        claim_s = "1 claim" if len(conflicting) == 1 else f"{len(conflicting)} claims"
        return ClaimMatch(
            clp,
            MatchStatus.UNMATCHED,
            None,
            f"{not_found}; {claim_s} for {patient} on {on_date}, but with another member ID",
        )
    return ClaimMatch(clp, MatchStatus.UNMATCHED, None, f"{not_found}, and no claim for {patient} on {on_date}")


# ---------------------------------------------------------------------------- helpers


def _claims(practice: Practice | int) -> models.QuerySet[Claim]:
    # The tenancy boundary: every claim considered comes through here.
    return Claim.objects.filter(practice=practice).select_related("patient", "policy").order_by()


def _same_patient(clp: ClaimPayment, last_name: str, first_name: str) -> bool:
    return _norm(clp.patient_last_name) == _norm(last_name) and _norm(clp.patient_first_name) == _norm(first_name)


def _norm(value: str) -> str:
    return " ".join(value.upper().split())


def _upper(value: str) -> str:
    return value.strip().upper()


def _ordered(claims: list[Claim]) -> tuple[Claim, ...]:
    return tuple(sorted(claims, key=lambda c: (c.claim_number, c.pk)))


def _chunk_size(params_per_item: int) -> int:
    """Items per IN (...) query, leaving room for the practice and the database's parameter limit."""
    limit = connection.features.max_query_params
    size = _MAX_CHUNK if limit is None else min(_MAX_CHUNK, (limit - 10) // params_per_item)
    return max(size, 1)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
