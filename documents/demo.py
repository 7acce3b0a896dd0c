"""Demo documents: a denial letter attached to its denied claim (pending review), an EOB in two
versions (approved, then corrected), and a scanned insurance card.

Made through ``documents.services`` as a biller's uploads would be, and their text read at once,
so the demo's search works before any worker has run. Made once: a practice with documents gets
none.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from billingpulse.actor import Actor
from billingpulse.models import Practice, User
from claims.models import Claim
from claims.status import ClaimStatus
from documents import services
from documents.models import Document, DocumentType
from documents.services import Upload
from documents.status import DocumentStatus

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def seed_documents(practice: Practice, admin: User) -> None:
    if Document.objects.filter(practice=practice).exists():
        return
    actor = Actor(admin)
    claim = Claim.objects.filter(practice=practice, status=ClaimStatus.DENIED).select_related("patient").first()
    if claim is None:
        return
    letter = _letter(
        f"Claim {claim.claim_number} for {claim.patient.full_name}",
        "Notice of denial",
        f"Your claim was denied. Reason code {claim.denial_code or 'CO-16'}. You may appeal within 180 days.",
    )
    denial = services.upload(
        practice,
        actor=actor,
        file=_upload("denial-letter.pdf", letter),
        patient=claim.patient,
        document_type=DocumentType.DENIAL_LETTER,
        title=f"Denial letter for claim {claim.claim_number}",
        links={"claim": claim},
    )
    eob = services.upload(
        practice,
        actor=actor,
        file=_upload("eob.pdf", _letter("Explanation of benefits", "Paid 84.20", "Patient responsibility 25.00")),
        patient=claim.patient,
        document_type=DocumentType.EOB,
        title="EOB, March visit",
    )
    services.move(eob, DocumentStatus.REVIEWED, actor=actor)
    services.move(eob, DocumentStatus.APPROVED, actor=actor)
    services.add_version(
        eob,
        actor=actor,
        file=_upload("eob-corrected.pdf", _letter("Explanation of benefits (corrected)", "Paid 96.40", "Copay 15.00")),
        comment="Corrected EOB from the payer",
    )
    card = services.upload(
        practice,
        actor=actor,
        file=_upload("insurance-card.png", _card(claim.patient.full_name)),
        patient=claim.patient,
        document_type=DocumentType.INSURANCE_CARD,
        title="Insurance card (front)",
        draft=True,
    )
    for document in (denial, eob, card):
        for version in document.versions.all():
            services.read_text(version)


def _upload(name: str, data: bytes) -> Upload:
    return Upload(name=name, stream=io.BytesIO(data), size=len(data))


def _letter(*paragraphs: str) -> bytes:
    from weasyprint import HTML  # about a second to import: only when the demo is made

    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return HTML(string=f"<html><body style='font-family: DejaVu Sans'>{body}</body></html>").write_pdf()


def _card(name: str) -> bytes:
    image = Image.new("RGB", (1000, 600), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 44)
    for row, text in enumerate(["BLUE SHIELD PPO", f"MEMBER {name.upper()}", "ID XQJ 4417 2290", "GROUP 55120"]):
        draw.text((60, 60 + row * 120), text, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
