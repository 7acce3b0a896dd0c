"""Sending a document outside the practice: share links and email, each of exactly the version chosen.

A share link works without signing in, for a set number of days, until withdrawn; only its
token's hash is stored. An email carries the chosen version as an attachment, through a real
SMTP server on loopback. Every link made, download through it, withdrawal and email is on the
document's history.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from billingpulse.actor import Actor
from documents import services
from documents.models import DocumentEvent, DocumentShare, hash_share_token
from documents.services import Upload
from documents.status import DocumentStatus
from documents.tests.test_pages import body, make, streamed
from documents.views import SHARE_MISSES_PER_IP
from telephony.tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

FIRST = b"Version one: the payer's first letter.\n"
SECOND = b"Version two: the corrected letter with the appeal address.\n"


@pytest.fixture
def document(practice, owner):
    """A text document in two versions."""
    document = make(practice, owner, FIRST, name="letter.txt", title="Letter from Aetna")
    services.add_version(document, actor=Actor(owner), file=Upload("letter-v2.txt", io.BytesIO(SECOND), len(SECOND)))
    document.refresh_from_db()
    return document


@pytest.fixture
def smtp(settings):
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
        yield sink


def new_link(response) -> str:
    """The share link shown on the page just after it was made, as a path."""
    match = re.search(r'id="new-share-url"[^>]*value="https?://[^/"]+(/[^"]+)"', body(response))
    assert match, "the new link is shown"
    return match.group(1)


def share_from_page(client, document, **fields) -> str:
    data = {"version": document.current_version.number, "days": 7, "recipient": ""} | fields
    response = client.post(f"/documents/{document.pk}/share/", data)
    assert response.status_code == 201
    return new_link(response)


# -- share links -----------------------------------------------------------------------------------


def test_a_link_to_version_1_downloads_version_1_without_signing_in(client, owner_client, document):
    link = share_from_page(owner_client, document, version=1, recipient="Aetna appeals")

    landing = client.get(link)
    download = client.get(f"{link}download/")

    assert landing.status_code == 200
    assert "letter.txt" in body(landing) and "Alpha Family Clinic" in body(landing)
    assert landing["Referrer-Policy"] == "no-referrer" and "noindex" in landing["X-Robots-Tag"]
    assert download.status_code == 200 and streamed(download) == FIRST
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff" and "no-store" in download["Cache-Control"]
    events = list(document.events.filter(kind__in=["shared", "share_downloaded"]).order_by("created_at", "id"))
    assert [(e.kind, e.version.number) for e in events] == [("shared", 1), ("share_downloaded", 1)]
    assert "Aetna appeals" in events[0].message and events[1].actor is None


def test_the_landing_page_alone_records_no_download(client, owner_client, document):
    link = share_from_page(owner_client, document)

    client.get(link)

    assert not document.events.filter(kind=DocumentEvent.Kind.SHARE_DOWNLOADED).exists()


def test_only_the_hash_of_the_token_is_stored_and_the_link_is_shown_once(owner_client, document):
    link = share_from_page(owner_client, document)
    token = link.rstrip("/").split("/")[-1]

    share = DocumentShare.objects.get()
    page = body(owner_client.get(f"/documents/{document.pk}/"))

    assert share.token_hash == hash_share_token(token) and token not in share.token_hash
    assert token not in page and "Links that work now" in page and "Withdraw" in page


def test_a_withdrawn_link_stops_working_and_says_so(client, owner_client, document):
    link = share_from_page(owner_client, document)
    share = DocumentShare.objects.get()

    response = owner_client.post(f"/documents/{document.pk}/shares/{share.pk}/withdraw/")

    assert response.status_code == 302
    gone = client.get(f"{link}download/")
    assert gone.status_code == 404 and "no longer works" in body(gone)
    assert document.events.filter(kind=DocumentEvent.Kind.SHARE_WITHDRAWN).count() == 1


def test_an_expired_link_stops_working(client, owner_client, document):
    link = share_from_page(owner_client, document, days=1)

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        response = client.get(f"{link}download/")

    assert response.status_code == 404 and "no longer works" in body(response)
    assert not document.events.filter(kind=DocumentEvent.Kind.SHARE_DOWNLOADED).exists()


def test_archiving_the_document_stops_its_links(client, owner, owner_client, document):
    link = share_from_page(owner_client, document)

    services.move(document, DocumentStatus.ARCHIVED, actor=Actor(owner))

    assert client.get(f"{link}download/").status_code == 404


def test_an_unknown_or_mangled_token_is_a_plain_404(client, owner_client, document):
    link = share_from_page(owner_client, document)

    for path in (link[:-3] + "xx/", "/documents/shared/nothing/", f"/documents/shared/{'a' * 300}/download/"):
        response = client.get(path)
        assert response.status_code == 404 and "no longer works" in body(response)


def test_an_address_that_keeps_trying_bad_links_is_turned_away(client):
    for _ in range(SHARE_MISSES_PER_IP.limit):
        assert client.get("/documents/shared/guess/").status_code == 404

    response = client.get("/documents/shared/guess/")

    assert response.status_code == 429 and "Too many tries" in body(response)


def test_a_confidential_document_is_shared_only_by_an_admin(practice, owner, teammate, teammate_client):
    document = make(practice, owner, FIRST, name="letter.txt", confidential=True, allowed_users=[teammate])

    response = teammate_client.post(f"/documents/{document.pk}/share/", {"version": 1, "days": 7})

    assert response.status_code == 403
    assert "Only a practice admin can share a confidential document" in body(response)
    assert not DocumentShare.objects.exists()
    share, _ = services.share(document.current_version, actor=Actor(owner))
    assert share.version == document.current_version


def test_a_link_must_last_one_of_the_offered_periods(owner_client, document):
    response = owner_client.post(f"/documents/{document.pk}/share/", {"version": 1, "days": 365})

    assert response.status_code == 400 and "Choose how long the link works" in body(response)
    with pytest.raises(services.DocumentError):
        services.share(document.current_version, actor=Actor(document.created_by), days=365)
    assert not DocumentShare.objects.exists()


def test_another_practice_cannot_share_or_withdraw(owner_client, outsider_client, document):
    share_from_page(owner_client, document)
    share = DocumentShare.objects.get()

    assert outsider_client.post(f"/documents/{document.pk}/share/", {"version": 1, "days": 7}).status_code == 404
    assert outsider_client.post(f"/documents/{document.pk}/shares/{share.pk}/withdraw/").status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None and DocumentShare.objects.count() == 1


@pytest.mark.usefixtures("document_storage")
def test_a_link_downloads_its_exact_version_on_every_backend(client, practice, owner):
    document = make(practice, owner, FIRST, name="letter.txt")
    services.add_version(document, actor=Actor(owner), file=Upload("v2.txt", io.BytesIO(SECOND), len(SECOND)))
    document.refresh_from_db()
    first, _ = document.versions.order_by("number")

    _, token = services.share(first, actor=Actor(owner))

    assert streamed(client.get(f"/documents/shared/{token}/download/")) == FIRST


# -- email -----------------------------------------------------------------------------------------


def test_it_emails_the_chosen_version_as_an_attachment(owner_client, owner, document, smtp):
    response = owner_client.post(
        f"/documents/{document.pk}/email/",
        {"version": 1, "to": "appeals@payer.example, Records@Payer.example", "message": "As requested."},
    )

    assert response.status_code == 302
    [message] = smtp.messages
    assert message["To"] == "appeals@payer.example, records@payer.example"
    assert message["Reply-To"] == owner.email
    assert "letter.txt" in message["Subject"] and "Alpha Family Clinic" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "letter.txt" and attachment.get_payload(decode=True) == FIRST
    assert "As requested." in message.get_body(("plain",)).get_content()
    event = document.events.get(kind=DocumentEvent.Kind.EMAILED)
    assert event.version.number == 1 and "appeals@payer.example" in event.message and event.actor == owner


def test_bad_addresses_are_field_errors_and_nothing_is_sent(owner_client, document, smtp):
    for to, error in (
        ("", "Enter the address to send it to."),
        ("not-an-address", "is not an email address"),
        (",".join(f"p{n}@payer.example" for n in range(6)), "at most 5 addresses"),
    ):
        response = owner_client.post(f"/documents/{document.pk}/email/", {"version": 1, "to": to})
        assert response.status_code == 400 and error in body(response)
    assert smtp.messages == []
    assert not document.events.filter(kind=DocumentEvent.Kind.EMAILED).exists()


def test_a_mail_server_that_is_down_is_explained_and_nothing_is_recorded_as_sent(owner_client, document, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens

    response = owner_client.post(f"/documents/{document.pk}/email/", {"version": 2, "to": "a@payer.example"})

    assert response.status_code == 502 and "The email could not be sent" in body(response)
    assert not document.events.filter(kind=DocumentEvent.Kind.EMAILED).exists()
    assert document.events.filter(kind=DocumentEvent.Kind.REFUSED, message__contains="could not be sent").exists()


def test_a_file_too_large_to_email_points_to_a_share_link(owner_client, document, settings, smtp):
    settings.DOCUMENT_EMAIL_MAX_MB = 0

    response = owner_client.post(f"/documents/{document.pk}/email/", {"version": 2, "to": "a@payer.example"})

    assert response.status_code == 400 and "too large to email. Share a link instead." in body(response)
    assert smtp.messages == []


def test_staff_cannot_email_a_confidential_document(practice, owner, teammate, teammate_client, smtp):
    document = make(practice, owner, FIRST, name="letter.txt", confidential=True, allowed_users=[teammate])

    response = teammate_client.post(f"/documents/{document.pk}/email/", {"version": 1, "to": "a@payer.example"})

    assert response.status_code == 403 and smtp.messages == []


def test_the_page_offers_sharing_and_email_for_each_version(owner_client, document):
    page = body(owner_client.get(f"/documents/{document.pk}/"))

    assert "Send outside the practice" in page
    assert page.count('<option value="1">Version 1</option>') == 2
    assert page.count('<option value="2" selected>Version 2 (current)</option>') == 2


def test_a_staff_member_sees_why_they_cannot_send_a_confidential_document(practice, owner, teammate, teammate_client):
    document = make(practice, owner, FIRST, name="letter.txt", confidential=True, allowed_users=[teammate])

    page = body(teammate_client.get(f"/documents/{document.pk}/"))

    assert "Only a practice admin can send a confidential document" in page
    assert f'action="/documents/{document.pk}/share/"' not in page


def test_a_version_the_document_does_not_have_is_a_field_error(owner_client, document):
    response = owner_client.post(f"/documents/{document.pk}/share/", {"version": 9, "days": 7})

    assert response.status_code == 400 and "Choose one of this document&#x27;s versions." in body(response)
