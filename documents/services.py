"""What happens to documents: upload, new versions, review, access, reading their text, search.

Every act names the exact version it acts on and is written to the document's history
(``DocumentEvent``), refusals included. A file is checked by its content before anything is
stored; it is stored (encrypted) before its row is written, and removed again if the row
cannot be written, so a failed upload leaves neither an orphan file nor a row.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from email import encoders
from email.mime.base import MIMEBase
from typing import Any, BinaryIO, NoReturn
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.utils import formats, timezone

import audit
from billingpulse.actor import Actor
from billingpulse.models import Patient, Practice, User
from documents import blind_index, crypto, extract, storage
from documents.detect import UploadRefused, check_upload
from documents.models import (
    Document,
    DocumentEvent,
    DocumentQuerySet,
    DocumentShare,
    DocumentVersion,
    DocumentWord,
    Extraction,
)
from documents.status import ADMIN_ONLY, DocumentStatus, can_move

log = logging.getLogger(__name__)

# The things a document may be attached to, besides its patient: field name -> label.
LINKS = {
    "appointment": "encounter",
    "claim": "claim",
    "call": "payer call",
    "note": "clinical note",
    "remittance": "remittance",
}


def link_name(record: models.Model) -> str:
    """Which of ``LINKS`` a record is attached through (a Claim → "claim", a ClinicalNote → "note")."""
    field = next((f for f in Document._meta.get_fields() if f.name in LINKS and f.related_model is type(record)), None)
    if field is None:
        raise ValueError(f"Documents are not attached to {type(record).__name__}.")
    return field.name


# Stored files no version points at are removed by the sweep once they are this old (an
# upload in progress has stored its file but not yet written its row).
ORPHAN_GRACE = timedelta(hours=1)


class DocumentError(Exception):
    """An act on a document that was refused, with a message for the person who tried it."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(DocumentError):
    status = 403


class Unreadable(DocumentError):
    """The stored file is missing or under a key this server lacks: nothing to serve."""

    status = 503


class NotSent(DocumentError):
    """The mail server refused or could not be reached: nothing was sent."""

    status = 502


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as sent, a readable binary stream, its size in bytes."""

    name: str
    stream: BinaryIO
    size: int

    @classmethod
    def of(cls, uploaded_file: Any) -> Upload:
        """From a Django ``UploadedFile``."""
        uploaded_file.seek(0)
        return cls(name=uploaded_file.name or "", stream=uploaded_file, size=uploaded_file.size or 0)


def max_upload_bytes() -> int:
    return settings.DOCUMENT_MAX_UPLOAD_MB * 1024 * 1024


# ---------------------------------------------------------------------------- who may see


def visible(practice: Practice, user: User) -> DocumentQuerySet:
    """The practice's documents this user may see (confidential ones only if allowed)."""
    return Document.objects.filter(practice=practice).visible_to(user)


def may_see(document: Document, user: User) -> bool:
    """The rule of ``DocumentQuerySet.visible_to``, for one document already in hand."""
    if not document.confidential:
        return True
    return Document.objects.filter(pk=document.pk).visible_to(user).exists()


# ---------------------------------------------------------------------------- upload


def upload(
    practice: Practice,
    *,
    actor: Actor,
    file: Upload,
    patient: Patient,
    document_type: str,
    title: str = "",
    description: str = "",
    document_date: date | None = None,
    links: dict[str, Any] | None = None,
    confidential: bool = False,
    allowed_users: Iterable[User] = (),
    draft: bool = False,
) -> Document:
    """A new document with its first version. ``UploadRefused`` (nothing stored) when the file
    is empty, too large, of a type not accepted or not what its name says."""
    if patient.practice_id != practice.pk:
        raise DocumentError("This patient is not one of your practice's patients.")
    links = links or {}
    for name, target in links.items():
        if target is not None and target.practice_id != practice.pk:
            raise DocumentError(f"That {LINKS[name]} is not one of your practice's.")
    checked, stored = _store(file)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                practice=practice,
                patient=patient,
                document_type=document_type,
                title=(title or checked.safe_name).strip()[:200],
                description=description,
                document_date=document_date,
                confidential=confidential,
                status=DocumentStatus.DRAFT if draft else DocumentStatus.PENDING_REVIEW,
                created_by=actor.user,
                **links,
            )
            if confidential:
                document.allowed_users.set(allowed_users)
            version = _add_version_row(document, checked, stored, actor, comment="")
            _record(document, DocumentEvent.Kind.UPLOADED, actor, f"{checked.safe_name} ({checked.label})", version)
    except BaseException:
        storage.delete(stored.key)
        raise
    _read_text_later(version)
    return document


def add_version(document: Document, *, actor: Actor, file: Upload, comment: str = "") -> DocumentVersion:
    """A new current version; every earlier one stays. A reviewed or approved document goes back
    to review, since what was approved was the earlier file."""
    _refuse_unless_visible(document, actor)
    if document.status == DocumentStatus.ARCHIVED:
        _refuse(document, actor, "This document is archived. Restore it before adding a version.")
    checked, stored = _store(file)
    try:
        with transaction.atomic():
            current = Document.objects.select_for_update().get(pk=document.pk)
            version = _add_version_row(current, checked, stored, actor, comment=comment)
            message = f"Version {version.number}: {checked.safe_name}" + (f". {comment}" if comment else "")
            _record(current, DocumentEvent.Kind.VERSION_ADDED, actor, message, version)
            if current.status in (DocumentStatus.REVIEWED, DocumentStatus.APPROVED):
                _move(current, DocumentStatus.PENDING_REVIEW, actor, "A new version needs review.")
    except BaseException:
        storage.delete(stored.key)
        raise
    document.refresh_from_db()
    _read_text_later(version)
    return version


def _store(file: Upload) -> tuple[Any, storage.Stored]:
    checked = check_upload(file.name, file.stream, file.size, max_bytes=max_upload_bytes())
    try:
        stored = storage.store(file.stream, max_bytes=max_upload_bytes())
    except crypto.TooLarge as error:
        raise UploadRefused(
            f"“{checked.safe_name}” is larger than {settings.DOCUMENT_MAX_UPLOAD_MB} MB. Nothing was saved."
        ) from error
    return checked, stored


def _add_version_row(document: Document, checked: Any, stored: storage.Stored, actor: Actor, *, comment: str):
    previous = document.current_version
    version = DocumentVersion.objects.create(
        document=document,
        number=(previous.number + 1) if previous else 1,
        parent=previous,
        original_name=checked.safe_name,
        size=stored.size,
        mime_type=checked.mime,
        sha256=stored.sha256,
        storage_backend=settings.STORAGE_BACKEND,
        storage_key=stored.key,
        key_id=stored.key_id,
        comment=comment[:300],
        uploaded_by=actor.user,
    )
    document.current_version = version
    document.save(update_fields=["current_version", "updated_at"])
    return version


# ---------------------------------------------------------------------------- review


def move(document: Document, status: str, *, actor: Actor, comment: str = "") -> Document:
    """Move a document through review (``documents.status``); approving is for admins."""
    _refuse_unless_visible(document, actor)
    if status in ADMIN_ONLY and not actor.user.is_practice_admin:
        _refuse(document, actor, "Only a practice admin can approve a document.", error=NotAllowed)
    with transaction.atomic():
        current = Document.objects.select_for_update().get(pk=document.pk)
        allowed = can_move(current.status, status)
        if allowed:
            _move(current, status, actor, comment)
    if not allowed:  # recorded outside the transaction, which changed nothing
        label, target = current.get_status_display().lower(), DocumentStatus(status).label.lower()
        _refuse(current, actor, f"A document that is {label} can't be marked {target}.")
    document.refresh_from_db()
    return document


def _move(document: Document, status: str, actor: Actor, comment: str) -> None:
    now = timezone.now()
    if status == DocumentStatus.REVIEWED:
        document.reviewed_by, document.reviewed_at = actor.user, now
    elif status == DocumentStatus.APPROVED:
        document.approved_by, document.approved_at = actor.user, now
    elif status in (DocumentStatus.PENDING_REVIEW, DocumentStatus.DRAFT):
        document.approved_by = document.approved_at = None
        if status == DocumentStatus.DRAFT:
            document.reviewed_by = document.reviewed_at = None
    before = document.get_status_display()
    document.status = status
    document.save()
    message = f"{before} → {document.get_status_display()}" + (f": {comment}" if comment else "")
    _record(document, DocumentEvent.Kind.STATUS, actor, message, document.current_version)


def comment(document: Document, text: str, *, actor: Actor) -> DocumentEvent:
    _refuse_unless_visible(document, actor)
    text = text.strip()
    if not text:
        raise DocumentError("Write a comment first.")
    return _record(document, DocumentEvent.Kind.COMMENT, actor, text[:2000], document.current_version)


def assign(document: Document, assignee: User | None, *, actor: Actor) -> Document:
    _refuse_unless_visible(document, actor)
    if assignee is not None and assignee.practice_id != document.practice_id:
        raise DocumentError("Assign the review to someone in your practice.")
    document.assignee = assignee
    document.save(update_fields=["assignee", "updated_at"])
    who = assignee.display_name if assignee else "nobody"
    _record(document, DocumentEvent.Kind.EDITED, actor, f"Review assigned to {who}")
    return document


def attach(document: Document, *, actor: Actor, **links: Any) -> Document:
    """Attach to a claim, call, note, encounter or remittance of the same practice (None detaches)."""
    _refuse_unless_visible(document, actor)
    for name, target in links.items():
        if name not in LINKS:
            raise DocumentError(f"A document can't be attached to {name}.")
        if target is not None and target.practice_id != document.practice_id:
            raise DocumentError(f"That {LINKS[name]} is not one of your practice's.")
        setattr(document, name, target)
        what = f"{LINKS[name]} {target}" if target is not None else f"no {LINKS[name]}"
        _record(document, DocumentEvent.Kind.ATTACHED, actor, f"Attached to {what}", document.current_version)
    document.save()
    return document


# ---------------------------------------------------------------------------- access


def open_version(version: DocumentVersion, *, actor: Actor, kind: str = DocumentEvent.Kind.DOWNLOADED):
    """The decrypted bytes of exactly this version, streamed, and the access recorded.
    ``Unreadable`` (nothing recorded but the failure) when its stored file can't be read."""
    _refuse_unless_visible(version.document, actor)
    chunks = _open(version, actor)
    _record(version.document, kind, actor, f"Version {version.number}", version)
    return chunks


def _open(version: DocumentVersion, actor: Actor | None):
    try:
        return storage.open_chunks(version.storage_key)
    except (OSError, crypto.DocumentKeyError, crypto.DocumentCorrupt) as error:
        log.error("Document version %s could not be read from storage: %s", version.pk, error)
        message = f"Version {version.number} could not be read"
        _record(version.document, DocumentEvent.Kind.REFUSED, actor, message, version)
        raise Unreadable(
            "This file can't be read from storage just now. Nothing was changed; tell your practice admin."
        ) from error


def version_text(version: DocumentVersion) -> str:
    """The text read from this version (decrypted), or "" if none was read."""
    if not version.extracted_text:
        return ""
    return crypto.decrypt_bytes(bytes(version.extracted_text)).decode("utf-8")


def _refuse_unless_visible(document: Document, actor: Actor) -> None:
    if document.practice_id != actor.user.practice_id:
        # Another practice's document: not even its existence is acknowledged.
        raise Document.DoesNotExist
    if not may_see(document, actor.user):
        _refuse(document, actor, "This document is confidential.", error=NotAllowed)


# ---------------------------------------------------------------------------- sending outside the practice

# How long a share link may stay usable, in days (the choices offered; the first is the default).
SHARE_DAYS = (7, 1, 30)


def _refuse_unless_sendable(version: DocumentVersion, actor: Actor, what: str) -> None:
    """A file leaves the practice only from a document this user may see that is not archived;
    a confidential one only by an admin (the people named on it are not the ones to decide)."""
    document = version.document
    _refuse_unless_visible(document, actor)
    if document.status == DocumentStatus.ARCHIVED:
        _refuse(document, actor, f"This document is archived. Restore it before you {what} it.")
    if document.confidential and not actor.user.is_practice_admin:
        _refuse(document, actor, f"Only a practice admin can {what} a confidential document.", error=NotAllowed)


def share(version: DocumentVersion, *, actor: Actor, days: int = SHARE_DAYS[0], recipient: str = ""):
    """A link to download exactly this version, usable for ``days`` days; returns the share and
    its token (shown once: only its hash is kept)."""
    if days not in SHARE_DAYS:
        raise DocumentError(f"A link can be valid for {', '.join(map(str, sorted(SHARE_DAYS)))} days.")
    _refuse_unless_sendable(version, actor, "share")
    link = DocumentShare(
        document=version.document,
        version=version,
        recipient=recipient.strip()[:200],
        created_by=actor.user,
        expires_at=timezone.now() + timedelta(days=days),
    )
    token = link.issue_token()
    with transaction.atomic():
        link.save()
        until = timezone.localtime(link.expires_at, ZoneInfo(version.document.practice.time_zone))
        who = f" with {link.recipient}" if link.recipient else ""
        message = f"Version {version.number} shared{who} until {formats.date_format(until, 'M j, Y, g:i A T')}"
        _record(version.document, DocumentEvent.Kind.SHARED, actor, message, version)
    return link, token


def withdraw_share(link: DocumentShare, *, actor: Actor) -> DocumentShare:
    _refuse_unless_visible(link.document, actor)
    with transaction.atomic():
        current = DocumentShare.objects.select_for_update().get(pk=link.pk)
        if current.revoked_at is None:
            current.revoked_at, current.revoked_by = timezone.now(), actor.user
            current.save(update_fields=["revoked_at", "revoked_by"])
            who = f" with {current.recipient}" if current.recipient else ""
            message = f"The link to version {current.version.number}{who} no longer works"
            _record(current.document, DocumentEvent.Kind.SHARE_WITHDRAWN, actor, message, current.version)
    return current


def open_share(link: DocumentShare, *, ip_address: str | None):
    """The decrypted bytes of the link's version, streamed, the download recorded (by whoever
    holds the link: no user, the address it came from)."""
    chunks = _open(link.version, None)
    who = f" shared with {link.recipient}" if link.recipient else ""
    message = f"Version {link.version.number}, through the link{who}"
    DocumentEvent.objects.create(
        document=link.document,
        version=link.version,
        kind=DocumentEvent.Kind.SHARE_DOWNLOADED,
        message=message,
        ip_address=ip_address,
    )
    audit.record("downloaded", target=link.document, actor=None, detail=message)
    return chunks


def _attachment(version: DocumentVersion, data: bytes) -> MIMEBase:
    """The file as sent: base64 whatever its type, so the recipient gets exactly the stored bytes
    (a text part would have its line endings rewritten on the way)."""
    part = MIMEBase(*version.mime_type.split("/", 1))
    part.set_payload(data)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=version.original_name)
    return part


def max_email_bytes() -> int:
    return settings.DOCUMENT_EMAIL_MAX_MB * 1024 * 1024


def email_version(version: DocumentVersion, *, actor: Actor, to: list[str], message: str = "") -> None:
    """Email exactly this version as an attachment, from the practice, replies to the sender.
    ``NotSent`` when the mail server refuses or can't be reached (nothing recorded as sent)."""
    _refuse_unless_sendable(version, actor, "email")
    if version.size > max_email_bytes():
        raise DocumentError(
            f"This file is larger than {settings.DOCUMENT_EMAIL_MAX_MB} MB, too large to email. Share a link instead."
        )
    document, practice = version.document, actor.user.practice
    body = message.strip() or f"{practice.name} sent you the attached file, {version.original_name}."
    email = EmailMessage(
        subject=f"{version.original_name} from {practice.name}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[actor.user.email],
    )
    email.attach(_attachment(version, b"".join(_open(version, actor))))
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as error:
        log.warning("Document version %s could not be emailed: %s", version.pk, error)
        message = "The email could not be sent: the mail server did not accept it. Nothing was sent; try again later."
        _refuse(document, actor, message, error=NotSent)
    _record(document, DocumentEvent.Kind.EMAILED, actor, f"Version {version.number} to {', '.join(to)}", version)


# ---------------------------------------------------------------------------- text and search


def _read_text_later(version: DocumentVersion) -> None:
    from documents.tasks import read_text

    transaction.on_commit(lambda: read_text.delay(version.pk))


def read_text(version: DocumentVersion) -> DocumentVersion:
    """Read the version's text (text layer, else OCR), keep it encrypted, index its words. A stored
    file that can't be read (missing, or under a key this server lacks) is a failed reading with
    its reason, never a version left "reading text" for good."""
    try:
        with storage.plain_copy(version.storage_key) as path:
            result = extract.extract_text(path, version.mime_type)
    except (crypto.DocumentKeyError, crypto.DocumentCorrupt, OSError) as error:
        log.error("Could not read document version %s from storage: %s", version.pk, error)
        result = extract.Extraction(
            extract.ExtractionStatus.FAILED, reason=f"The stored file could not be read: {error}"
        )
    key = _index_key(version.document.practice_id)
    tokens = blind_index.tokens(result.text, key) if result.text else set()
    with transaction.atomic():
        version.extraction_status = Extraction(str(result.status))
        version.extraction_reason = (result.reason or "")[:300]
        version.pages = result.pages
        version.extracted_text = crypto.encrypt_bytes(result.text.encode("utf-8")) if result.text else None
        version.save(update_fields=["extraction_status", "extraction_reason", "pages", "extracted_text"])
        DocumentWord.objects.filter(version=version).delete()
        DocumentWord.objects.bulk_create(DocumentWord(version=version, token=token) for token in tokens)
        _record(version.document, DocumentEvent.Kind.TEXT_READ, None, version.get_extraction_status_display(), version)
    return version


def search(documents: DocumentQuerySet, query: str, *, practice_id: int) -> DocumentQuerySet:
    """Documents whose title has the query, or whose current version's text has all its words."""
    query = (query or "").strip()
    if not query:
        return documents
    tokens = blind_index.query_tokens(query, _index_key(practice_id))
    by_words = models.Q(pk__in=[]) if not tokens else models.Q()
    for token in tokens:
        by_words &= models.Q(current_version__in=DocumentWord.objects.filter(token=token).values("version"))
    return documents.filter(models.Q(title__icontains=query) | by_words)


def _index_key(practice_id: int) -> bytes:
    """The search index's key for one practice: equal words give different tokens in different
    practices, so tokens can't be matched across them."""
    return hmac.new(crypto.index_key(), f"practice:{practice_id}".encode(), hashlib.sha256).digest()


# ---------------------------------------------------------------------------- history


def _record(
    document: Document, kind: str, actor: Actor | None, message: str = "", version: DocumentVersion | None = None
) -> DocumentEvent:
    return DocumentEvent.objects.create(
        document=document,
        version=version,
        kind=kind,
        message=message[:2000],
        actor=actor.user if actor else None,
        ip_address=actor.ip_address if actor else None,
    )


def _refuse(document: Document, actor: Actor, message: str, *, error: type[DocumentError] = DocumentError) -> NoReturn:
    _record(document, DocumentEvent.Kind.REFUSED, actor, message)
    raise error(message)


# ---------------------------------------------------------------------------- housekeeping


def sweep_orphans(now=None) -> dict[str, int]:
    """Stored files no version points at (older than ORPHAN_GRACE) are removed; versions whose
    file is missing are counted and logged for an operator."""
    now = now or timezone.now()
    known = set(DocumentVersion.objects.values_list("storage_key", flat=True))
    removed = 0
    for key in storage.all_keys():
        if key in known:
            continue
        if storage.modified_at(key) > now - ORPHAN_GRACE:
            continue
        storage.delete(key)
        removed += 1
        log.warning("Removed a stored document file no version points at: %s", key)
    missing = [key for key in known if not storage.exists(key)]
    for key in missing:
        log.error("A document version's file is missing from storage: %s", key)
    return {"removed": removed, "missing": len(missing)}


def versions_to_rotate() -> models.QuerySet[DocumentVersion]:
    """Versions stored under a key other than the newest (``DOCUMENT_ENCRYPTION_KEYS[0]``)."""
    return DocumentVersion.objects.exclude(key_id=crypto.current_key_id()).order_by("pk")


def rotate_version(version: DocumentVersion) -> bool:
    """Re-encrypt one version's file and text under the newest key. The file is copied to a new
    key first and the row swapped in one transaction; the old object is deleted only after the
    swap commits, so an interruption at any point loses nothing and the next run carries on.
    False when another run rotated it meanwhile."""
    stored = storage.reencrypt(version.storage_key)
    if stored.sha256 != version.sha256:
        storage.delete(stored.key)
        raise DocumentError(f"Version {version.pk}'s file does not match its checksum; left as it was.")
    with transaction.atomic():
        current = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if current.storage_key != version.storage_key:
            swapped = False
        else:
            old_key = current.storage_key
            current.storage_key, current.key_id = stored.key, stored.key_id
            if current.extracted_text:
                current.extracted_text = crypto.encrypt_bytes(crypto.decrypt_bytes(bytes(current.extracted_text)))
            current.save(update_fields=["storage_key", "key_id", "extracted_text"])
            audit.record("key_rotated", target=current.document, actor=None, detail=f"Version {current.number}")
            transaction.on_commit(lambda: storage.delete(old_key))
            swapped = True
    if not swapped:
        storage.delete(stored.key)
    return swapped


def rotate_keys(*, progress=None, every: int = 25) -> int:
    """Rotate every version still under an old key; ``progress(count)`` every ``every`` files."""
    done = 0
    for version in versions_to_rotate().iterator():
        if rotate_version(version):
            done += 1
            if progress and done % every == 0:
                progress(done)
    if progress and done % every:
        progress(done)
    return done
