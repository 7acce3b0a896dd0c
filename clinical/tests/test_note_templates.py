from __future__ import annotations

import pytest

from clinical.models import NoteTemplate
from clinical.tests.factories import NoteTemplateFactory

pytestmark = pytest.mark.django_db

LIST = "/notes/templates/"
NEW = "/notes/templates/new/"


def _data(**changes) -> dict:
    return {"name": "Acute visit", "note_type": "soap", "is_active": "on", **changes}


# The list


def test_it_lists_the_practices_templates_for_the_owner(owner_client, practice, other_practice):
    NoteTemplateFactory(practice=practice, name="Cough visit", sections={"plan": "Fluids"})
    NoteTemplateFactory(practice=other_practice, name="Bravo template")

    response = owner_client.get(LIST)

    assert response.status_code == 200
    assert b"Cough visit" in response.content and b"Plan" in response.content
    assert b"Bravo template" not in response.content
    assert b"Add template" in response.content


def test_it_shows_staff_the_list_read_only(teammate_client, practice):
    template = NoteTemplateFactory(practice=practice, name="Cough visit")

    response = teammate_client.get(LIST)

    assert response.status_code == 200
    assert b"Cough visit" in response.content
    assert f"/notes/templates/{template.pk}/edit/".encode() not in response.content
    assert b"Add template" not in response.content


def test_it_refuses_a_post_to_the_list(owner_client):
    assert owner_client.post(LIST).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client):
    response = client.get(LIST)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# Adding


def test_it_adds_a_template_with_only_the_sections_that_have_text(owner_client, practice):
    response = owner_client.post(
        NEW, _data(subjective="Patient reports ", plan="Follow up in ", hpi="   ", bogus="ignored")
    )

    template = NoteTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == LIST
    assert template.practice == practice and template.is_active
    assert template.sections == {"subjective": "Patient reports ", "plan": "Follow up in "}


def test_it_shows_a_textarea_per_section(owner_client):
    response = owner_client.get(NEW)

    assert response.status_code == 200
    assert response.content.count(b"<textarea") == 9
    assert b"History of present illness" in response.content


def test_it_forbids_staff_from_adding_templates(teammate_client):
    assert teammate_client.get(NEW).status_code == 403
    assert teammate_client.post(NEW, _data()).status_code == 403
    assert not NoteTemplate.objects.exists()


def test_it_rejects_a_name_the_practice_already_uses(owner_client, practice):
    NoteTemplateFactory(practice=practice, name="Acute visit")

    response = owner_client.post(NEW, _data(name="acute  visit"))

    assert response.status_code == 400
    assert b"This practice already has a template with this name." in response.content
    assert NoteTemplate.objects.count() == 1


def test_it_allows_a_name_another_practice_uses(owner_client, other_practice):
    NoteTemplateFactory(practice=other_practice, name="Acute visit")

    assert owner_client.post(NEW, _data()).status_code == 302


def test_it_requires_a_name(owner_client):
    response = owner_client.post(NEW, _data(name=""))

    assert response.status_code == 400 and not NoteTemplate.objects.exists()


# Editing and taking out of use


def test_it_edits_a_template_and_takes_it_out_of_use(owner_client, practice):
    template = NoteTemplateFactory(practice=practice, name="Cough visit", sections={"plan": "Old plan"})

    response = owner_client.post(
        f"/notes/templates/{template.pk}/edit/", {"name": "Cough visit", "note_type": "progress", "assessment": "Dx: "}
    )

    template.refresh_from_db()
    assert response.status_code == 302
    assert (template.note_type, template.is_active) == ("progress", False)
    assert template.sections == {"assessment": "Dx: "}


def test_it_shows_the_stored_sections_in_the_form(owner_client, practice):
    template = NoteTemplateFactory(practice=practice, sections={"plan": "Follow up in two weeks"})

    response = owner_client.get(f"/notes/templates/{template.pk}/edit/")

    assert response.status_code == 200 and b"Follow up in two weeks" in response.content


def test_it_keeps_its_own_name_when_edited(owner_client, practice):
    template = NoteTemplateFactory(practice=practice, name="Cough visit")

    response = owner_client.post(f"/notes/templates/{template.pk}/edit/", _data(name="Cough visit"))

    assert response.status_code == 302


def test_it_hides_a_template_taken_out_of_use_from_start_a_note(owner_client, practice):
    template = NoteTemplateFactory(practice=practice, name="Retired visit")
    owner_client.post(
        f"/notes/templates/{template.pk}/edit/", {"name": "Retired visit", "note_type": "soap"}, follow=True
    )

    assert b"Retired visit" not in owner_client.get("/notes/new/").content


def test_it_forbids_staff_from_editing(teammate_client, practice):
    template = NoteTemplateFactory(practice=practice)

    assert teammate_client.post(f"/notes/templates/{template.pk}/edit/", _data()).status_code == 403


def test_it_hides_another_practices_template(outsider_client, practice):
    template = NoteTemplateFactory(practice=practice)

    assert outsider_client.get(f"/notes/templates/{template.pk}/edit/").status_code == 404
    assert outsider_client.post(f"/notes/templates/{template.pk}/edit/", _data()).status_code == 404


def test_it_answers_404_for_an_unknown_template(owner_client):
    assert owner_client.get("/notes/templates/999999/edit/").status_code == 404


def test_it_has_no_delete(owner_client, practice):
    template = NoteTemplateFactory(practice=practice)

    assert owner_client.delete(f"/notes/templates/{template.pk}/edit/").status_code == 405
    assert NoteTemplate.objects.filter(pk=template.pk).exists()


def test_it_sends_anonymous_editors_to_sign_in(client, practice):
    template = NoteTemplateFactory(practice=practice)

    response = client.get(f"/notes/templates/{template.pk}/edit/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
