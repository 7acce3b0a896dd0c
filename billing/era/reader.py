"""Read X12 835 remittance advice (ERA) files into frozen dataclasses.

Pure and stdlib-only: no Django, no database. Amounts are ``Decimal`` with their signs kept
(reversals, CLP02=22, are negative). Only what posting needs is interpreted; other known
segments are skipped silently and unknown ones are skipped with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

VERSIONS = ("004010X091A1", "005010X221A1")
# Segments we know and deliberately do not interpret.
_SKIPPED = {"CUR", "REF", "DTM", "N3", "N4", "PER", "LX", "TS3", "TS2", "MIA", "MOA", "AMT", "QTY", "LQ", "NM1", "RDM"}
_ZERO = Decimal(0)
_ENVELOPE = frozenset(("SE", "ST", "GE", "GS", "IEA", "ISA"))


class ERAError(ValueError):
    """The file cannot be posted; the message is meant for the biller."""


@dataclass(frozen=True)
class Adjustment:
    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class ServiceLine:
    qualifier: str
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    original_code: str | None
    service_date: date | None
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True)
class Claim:
    claim_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_icn: str
    patient_name: str
    adjustments: tuple[Adjustment, ...]
    lines: tuple[ServiceLine, ...]
    # For matching the claim to ours when its number does not: NM1*QC (patient) and NM1*IL
    # (subscriber, sent when the patient is not the subscriber) names and ids, DTM*232/233.
    # A social security number (NM108 = 34) is never kept as a member id.
    patient_last_name: str = ""
    patient_first_name: str = ""
    patient_member_id: str = ""
    subscriber_member_id: str = ""
    service_date_from: date | None = None
    service_date_to: date | None = None

    @property
    def first_service_date(self) -> date | None:
        """The claim's statement start (DTM*232), else the earliest service line date."""
        if self.service_date_from:
            return self.service_date_from
        return min((line.service_date for line in self.lines if line.service_date), default=None)


@dataclass(frozen=True)
class ProviderAdjustment:
    code: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Payee:
    name: str
    id_qualifier: str
    id: str
    refs: tuple[tuple[str, str], ...]

    @property
    def npi(self) -> str | None:
        return self.id if self.id_qualifier == "XX" else None


@dataclass(frozen=True)
class Payment:
    control_number: str
    amount: Decimal
    handling: str
    payment_date: date | None
    trace: str
    payer_id: str
    payer_name: str
    payee: Payee
    claims: tuple[Claim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]


@dataclass(frozen=True)
class Remittance:
    payments: tuple[Payment, ...]
    warnings: tuple[str, ...]


Segment = list[str]


def read_835(data: bytes | str) -> Remittance:
    """Parse a whole 835 interchange; raise ``ERAError`` if it is not a complete, consistent 835."""
    segments, component = _segments(data)
    payments: list[Payment] = []
    warnings: list[str] = []
    i = 0
    while i < len(segments):
        isa = segments[i]
        if isa[0] != "ISA":
            raise ERAError(f"Expected the start of an interchange (ISA) but found {isa[0]}.")
        i, groups = i + 1, 0
        while i < len(segments) and segments[i][0] == "GS":
            gs, i, count = segments[i], i + 1, 0
            if _el(gs, 8) not in VERSIONS:
                raise ERAError(f"This is not a remittance advice (835): its version is {_el(gs, 8) or 'missing'}.")
            while i < len(segments) and segments[i][0] == "ST":
                st = segments[i]
                if _el(st, 1) != "835":
                    raise ERAError(f"This is not a remittance advice (835): it is a {_el(st, 1)} transaction.")
                end = i + 1
                while end < len(segments) and segments[end][0] not in _ENVELOPE:
                    end += 1
                se = _expect(segments, end, "SE", "payment")
                if _int(_el(se, 1)) != end - i + 1 or _el(se, 2) != _el(st, 2):
                    raise ERAError(f"Payment {_el(st, 2)} is damaged: its trailer does not match its contents.")
                payments.append(_payment(segments[i + 1 : end], _el(st, 2), component, warnings))
                i, count = end + 1, count + 1
            ge = _expect(segments, i, "GE", "group")
            if _int(_el(ge, 1)) != count or _el(ge, 2) != _el(gs, 6):
                raise ERAError(f"Group {_el(gs, 6)} is damaged: its trailer does not match its contents.")
            i, groups = i + 1, groups + 1
        iea = _expect(segments, i, "IEA", "interchange")
        if _int(_el(iea, 1)) != groups or not _same(_el(iea, 2), _el(isa, 13)):
            raise ERAError(f"Interchange {_el(isa, 13)} is damaged: its trailer does not match its contents.")
        i += 1
    if not payments:
        raise ERAError("The file contains no payments.")
    return Remittance(tuple(payments), tuple(warnings))


def balance_problems(payment: Payment) -> list[str]:
    """The TR3 balancing rules; each failure is a sentence naming the claim."""
    problems = []
    for claim in payment.claims:
        claim_cas = _total(claim.adjustments)
        line_cas = _ZERO
        for n, line in enumerate(claim.lines, 1):
            cas = _total(line.adjustments)
            line_cas += cas
            if line.charge - cas != line.paid:
                problems.append(
                    f"Claim {claim.claim_number}, line {n} ({line.code}): charge {line.charge} less adjustments "
                    f"{cas} is {line.charge - cas}, but {line.paid} was paid."
                )
        if claim.lines:
            lines_paid = sum((line.paid for line in claim.lines), _ZERO)
            if lines_paid - claim_cas != claim.paid:
                problems.append(
                    f"Claim {claim.claim_number}: its lines paid {lines_paid} less claim adjustments {claim_cas} "
                    f"is {lines_paid - claim_cas}, but the claim says {claim.paid} was paid."
                )
        if claim.charge - claim_cas - line_cas != claim.paid:
            problems.append(
                f"Claim {claim.claim_number}: charge {claim.charge} less all adjustments {claim_cas + line_cas} "
                f"is {claim.charge - claim_cas - line_cas}, but {claim.paid} was paid."
            )
    expected = sum((c.paid for c in payment.claims), _ZERO) - _total(payment.provider_adjustments)
    if payment.amount != expected:
        problems.append(
            f"Payment {payment.trace}: claims paid less provider adjustments is {expected}, "
            f"but the payment amount is {payment.amount}."
        )
    return problems


def _segments(data: bytes | str) -> tuple[list[Segment], str]:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    text = text.lstrip("\ufeff \t\r\n")
    if not text.startswith("ISA") or len(text) < 106:
        raise ERAError("This is not an X12 file: it does not start with an ISA header.")
    # ISA is fixed width. ISA11 (char 82) is the repetition separator in 5010, but nothing read here repeats.
    element, component, terminator = text[3], text[104], text[105]
    if terminator.isalnum() or len({element, component, terminator}) < 3:
        raise ERAError("The file header (ISA) is damaged: its separators cannot be read.")
    segments = []
    for raw in text.split(terminator):
        raw = raw.strip(" \t\r\n")
        if raw:
            segments.append(raw.split(element))
    return segments, component


def _expect(segments: list[Segment], i: int, tag: str, what: str) -> Segment:
    if i >= len(segments) or segments[i][0] != tag:
        raise ERAError(f"The file is incomplete: a {what} ends without its {tag} trailer. Ask the payer to resend it.")
    return segments[i]


def _payment(segments: list[Segment], control: str, component: str, warnings: list[str]) -> Payment:
    head: dict[str, str] = {}
    payee: dict = {"name": "", "q": "", "id": "", "refs": []}
    claims: list[dict] = []
    plb: list[ProviderAdjustment] = []
    date_ = None
    loop = "header"
    for seg in segments:
        tag = seg[0]
        qualifier = seg[1].strip() if len(seg) > 1 else ""
        # The commonest segments first: a 5,000-claim file has about 40,000.
        if tag == "CAS" and loop in ("claim", "line"):
            target = claims[-1]["lines"][-1] if loop == "line" else claims[-1]
            target["cas"].extend(_cas(seg))
        elif tag == "DTM":
            if loop == "line" and qualifier in ("472", "150"):
                line = claims[-1]["lines"][-1]
                if qualifier == "472" or line["date"] is None:
                    line["date"] = _date(_el(seg, 2), f"claim {_el(claims[-1]['seg'], 1)}", warnings)
            elif loop == "claim" and qualifier in ("232", "233"):
                claims[-1]["dates"][qualifier] = _date(_el(seg, 2), f"claim {_el(claims[-1]['seg'], 1)}", warnings)
        elif tag == "SVC" and claims:
            claims[-1]["lines"].append({"seg": seg, "date": None, "cas": []})
            loop = "line"
        elif tag == "CLP":
            claims.append({"seg": seg, "name": "", "cas": [], "lines": [], "patient": {}, "dates": {}})
            loop = "claim"
        elif tag == "NM1":
            if qualifier == "QC" and loop == "claim":
                claims[-1]["name"] = ", ".join(p for p in (_el(seg, 3), " ".join(seg[4:6]).strip()) if p)
                claims[-1]["patient"] |= {"last": _el(seg, 3), "first": _el(seg, 4), "id": _member_id(seg)}
            elif qualifier == "IL" and loop == "claim":
                claims[-1]["patient"]["subscriber_id"] = _member_id(seg)
        elif tag == "REF":
            if loop == "payee":
                payee["refs"].append((qualifier, _el(seg, 2)))
        elif tag == "BPR":
            head |= {"amount": _el(seg, 2), "handling": qualifier}
            date_ = _date(_el(seg, 16), f"payment {control}", warnings)
        elif tag == "TRN":
            head |= {"trace": _el(seg, 2), "payer_id": _el(seg, 3)}
        elif tag == "N1" and qualifier == "PR":
            head["payer_name"], loop = _el(seg, 2), "payer"
        elif tag == "N1" and qualifier == "PE":
            payee |= {"name": _el(seg, 2), "q": _el(seg, 3), "id": _el(seg, 4)}
            loop = "payee"
        elif tag == "PLB":
            loop = "footer"
            for k in range(3, 15, 2):
                if _el(seg, k):
                    code, _, ref = _el(seg, k).partition(component)
                    plb.append(ProviderAdjustment(code, ref, _dec(_el(seg, k + 1), "PLB")))
        elif tag not in _SKIPPED:
            warnings.append(f"Payment {control}: ignored an unexpected {tag} segment.")
    if "amount" not in head:
        raise ERAError(f"Payment {control} has no payment amount (BPR).")
    return Payment(
        control_number=control,
        amount=_dec(head["amount"], "BPR"),
        handling=head["handling"],
        payment_date=date_,
        trace=head.get("trace", ""),
        payer_id=head.get("payer_id", ""),
        payer_name=head.get("payer_name", ""),
        payee=Payee(payee["name"], payee["q"], payee["id"], tuple(payee["refs"])),
        claims=tuple(_claim(c, component) for c in claims),
        provider_adjustments=tuple(plb),
    )


def _claim(c: dict, component: str) -> Claim:
    seg = c["seg"]
    return Claim(
        claim_number=_el(seg, 1),
        status=_el(seg, 2),
        charge=_dec(_el(seg, 3), "CLP"),
        paid=_dec(_el(seg, 4), "CLP"),
        patient_responsibility=_dec(_el(seg, 5) or "0", "CLP"),
        payer_icn=_el(seg, 7),
        patient_name=c["name"],
        adjustments=tuple(c["cas"]),
        lines=tuple(_line(line, component) for line in c["lines"]),
        patient_last_name=c["patient"].get("last", ""),
        patient_first_name=c["patient"].get("first", ""),
        patient_member_id=c["patient"].get("id", ""),
        subscriber_member_id=c["patient"].get("subscriber_id", ""),
        service_date_from=c["dates"].get("232"),
        service_date_to=c["dates"].get("233"),
    )


def _line(line: dict, component: str) -> ServiceLine:
    seg = line["seg"]
    procedure = _el(seg, 1).split(component)
    original = _el(seg, 6).split(component)
    return ServiceLine(
        qualifier=procedure[0],
        code=procedure[1] if len(procedure) > 1 else "",
        modifiers=tuple(m for m in procedure[2:6] if m),
        charge=_dec(_el(seg, 2), "SVC"),
        paid=_dec(_el(seg, 3), "SVC"),
        units=_dec(_el(seg, 5), "SVC") if _el(seg, 5) else None,
        original_code=original[1] if len(original) > 1 and original[1] else None,
        service_date=line["date"],
        adjustments=tuple(line["cas"]),
    )


def _cas(seg: Segment) -> list[Adjustment]:
    found = []
    for k in range(2, min(len(seg), 20), 3):
        if _el(seg, k):
            quantity = _el(seg, k + 2)
            found.append(
                Adjustment(
                    _el(seg, 1), _el(seg, k), _dec(_el(seg, k + 1), "CAS"), _dec(quantity, "CAS") if quantity else None
                )
            )
    return found


def _member_id(nm1: Segment) -> str:
    return _el(nm1, 9) if _el(nm1, 8) != "34" else ""


def _el(seg: Segment, n: int) -> str:
    return seg[n].strip() if n < len(seg) else ""


def _total(items: tuple[Adjustment, ...] | tuple[ProviderAdjustment, ...]) -> Decimal:
    return sum((item.amount for item in items), _ZERO)


def _dec(value: str, tag: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ERAError(f"An amount in a {tag} segment is not a number: {value!r}.") from None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _same(a: str, b: str) -> bool:
    return a == b or (_int(a) is not None and _int(a) == _int(b))


def _date(value: str, where: str, warnings: list[str]) -> date | None:
    if not value:
        return None
    # CCYYMMDD, built directly: strptime costs more than the rest of a claim's reading.
    if len(value) == 8 and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    warnings.append(f"In {where}, the date {value!r} is not a valid date; it was left empty.")
    return None
