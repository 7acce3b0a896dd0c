from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from billingpulse.actor import Actor
from billingpulse.tests.factories import PASSWORD, UserFactory
from clinical import services
from clinical.models import NoteEvent, Signature
from clinical.services import NotAllowed, NoteActionError
from clinical.status import NoteStatus

pytestmark = pytest.mark.django_db


def test_it_signs_with_password_and_meaning_and_binds_the_signature_to_the_content(note, doctor):
    signature = services.sign(
        note, actor=Actor(doctor, "203.0.113.9", "Firefox/140"), password=PASSWORD, meaning="author"
    )

    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.is_signed and not note.is_locked
    assert signature.printed_name == "Dana Doctor" and signature.credentials == "MD"
    assert signature.meaning == Signature.Meaning.AUTHOR and "author of this note" in signature.attestation
    assert (signature.ip_address, signature.user_agent) == ("203.0.113.9", "Firefox/140")
    assert signature.content_hash == note.content_hash() and len(signature.content_hash) == 64
    assert note.signed_at == signature.signed_at
    assert note.events.filter(kind=NoteEvent.Kind.SIGNED, actor=doctor).exists()


def test_it_refuses_a_wrong_password_records_it_and_signs_nothing(note, doctor):
    with pytest.raises(NoteActionError, match="password is not right"):
        services.sign(note, actor=Actor(doctor), password="guess", meaning="author")

    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT and not note.signatures.exists()
    assert note.events.filter(kind=NoteEvent.Kind.SIGNING_FAILED, actor=doctor).count() == 1


def test_it_pauses_signing_after_repeated_wrong_passwords_then_opens_again(note, doctor):
    for _ in range(services.SIGNING_FAILURES_ALLOWED):
        with pytest.raises(NoteActionError):
            services.sign(note, actor=Actor(doctor), password="guess", meaning="author")

    with pytest.raises(NotAllowed, match="Signing is paused for you until"):
        services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED, message__contains="paused").exists()

    with time_machine.travel(timezone.now() + services.SIGNING_PAUSE):
        services.sign(note, actor=Actor(doctor), password=PASSWORD, meaning="author")
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED


def test_it_lets_only_the_notes_provider_sign_it_as_author(note, supervisor, teammate):
    for user in (supervisor, teammate):
        with pytest.raises(NotAllowed):
            services.sign(note, actor=Actor(user), password=PASSWORD, meaning="author")
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT and not note.signatures.exists()
    assert note.events.filter(kind=NoteEvent.Kind.REFUSED).count() == 2


def test_it_refuses_a_provider_of_another_practice(note, other_practice):
    from billingpulse.tests.factories import ProviderFactory

    stranger = UserFactory(practice=other_practice)
    ProviderFactory(practice=other_practice, user=stranger, can_cosign=True)
    assert services.allowed_meanings(note, stranger) == []
    with pytest.raises(NotAllowed, match="not linked to a provider of this practice"):
        services.sign(note, actor=Actor(stranger), password=PASSWORD, meaning="author")


def test_it_takes_a_cosignature_from_a_supervising_provider_only_once(signed_note, supervisor, doctor):
    assert services.allowed_meanings(signed_note, doctor) == []
    assert "cosigner" in services.allowed_meanings(signed_note, supervisor)

    cosignature = services.sign(signed_note, actor=Actor(supervisor), password=PASSWORD, meaning="cosigner")

    assert cosignature.content_hash == signed_note.content_hash()
    assert [s.meaning for s in signed_note.signatures.all()] == ["author", "cosigner"]
    with pytest.raises(NotAllowed, match="already signed this note as co-signer"):
        services.sign(signed_note, actor=Actor(supervisor), password=PASSWORD, meaning="cosigner")
    with pytest.raises(NotAllowed, match="co-signature must come from another provider"):
        services.sign(signed_note, actor=Actor(doctor), password=PASSWORD, meaning="cosigner")


def test_it_locks_a_signed_note_by_hand_and_by_the_periodic_task(signed_note, doctor, note):
    services.lock(signed_note, actor=Actor(doctor))
    signed_note.refresh_from_db()
    assert signed_note.status == NoteStatus.LOCKED and signed_note.is_locked and signed_note.locked_by == doctor


def test_it_locks_notes_signed_longer_ago_than_the_setting(signed_note, settings):
    assert services.lock_signed_notes() == 0
    with time_machine.travel(signed_note.signed_at + settings.NOTE_AUTO_LOCK_AFTER):
        assert services.lock_signed_notes() == 1
    signed_note.refresh_from_db()
    assert signed_note.status == NoteStatus.LOCKED and signed_note.locked_by is None
    assert signed_note.events.filter(kind=NoteEvent.Kind.LOCKED, message="Locked automatically.").exists()


def test_it_refuses_to_lock_a_draft(note, doctor):
    with pytest.raises(NoteActionError, match="Only a signed note can be locked"):
        services.lock(note, actor=Actor(doctor))


def test_it_adds_a_signed_addendum_to_a_locked_note(signed_note, doctor):
    services.lock(signed_note, actor=Actor(doctor))

    addendum = services.add_addendum(
        signed_note, actor=Actor(doctor), password=PASSWORD, text="Culture came back negative."
    )

    assert addendum.signature.content_hash == addendum.content_hash()
    assert addendum.signature.signer == doctor
    assert all(check.intact for check in services.verify(signed_note))
    with pytest.raises(NoteActionError, match="password is not right"):
        services.add_addendum(signed_note, actor=Actor(doctor), password="nope", text="More.")
    assert signed_note.addenda.count() == 1


def test_it_refuses_an_addendum_to_a_draft_or_without_text(note, signed_note, doctor):
    with pytest.raises(NoteActionError, match="Write the addendum"):
        services.add_addendum(signed_note, actor=Actor(doctor), password=PASSWORD, text="  ")
    draft = services.amend(signed_note, actor=Actor(doctor), reason="Wrong side.")
    with pytest.raises(NoteActionError, match="can still be edited"):
        services.add_addendum(draft, actor=Actor(doctor), password=PASSWORD, text="Text.")


def test_it_amends_with_a_reason_keeping_the_original_until_the_amendment_is_signed(signed_note, doctor):
    amendment = services.amend(signed_note, actor=Actor(doctor), reason="Laterality was wrong.")

    assert amendment.version == 2 and amendment.amends == signed_note and amendment.first_version == signed_note
    assert amendment.status == NoteStatus.DRAFT and amendment.amendment_reason == "Laterality was wrong."
    assert amendment.assessment == signed_note.assessment
    services.save_draft(amendment, {"assessment": "Acute bronchitis, right side."}, actor=Actor(doctor))
    signed_note.refresh_from_db()
    assert signed_note.status == NoteStatus.SIGNED  # still the version in force

    services.sign(amendment, actor=Actor(doctor), password=PASSWORD, meaning="author")

    signed_note.refresh_from_db()
    assert signed_note.status == NoteStatus.AMENDED and signed_note.assessment == "Acute bronchitis."
    assert all(check.intact for check in services.verify(signed_note))
    assert list(type(signed_note).objects.current().filter(pk__in=[signed_note.pk, amendment.pk])) == [amendment]


def test_it_refuses_an_amendment_without_a_reason_and_a_second_open_amendment(signed_note, doctor):
    with pytest.raises(NoteActionError, match="Say why"):
        services.amend(signed_note, actor=Actor(doctor), reason=" ")
    services.amend(signed_note, actor=Actor(doctor), reason="Typo.")
    with pytest.raises(NoteActionError, match="already being written"):
        services.amend(signed_note, actor=Actor(doctor), reason="Another.")
    assert signed_note.events.filter(kind=NoteEvent.Kind.REFUSED).count() == 2


def test_it_lets_staff_draft_but_not_amend(signed_note, teammate):
    with pytest.raises(NotAllowed):
        services.amend(signed_note, actor=Actor(teammate), reason="Typo.")
