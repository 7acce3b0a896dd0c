from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billingpulse.tests.factories import PatientFactory, ProviderFactory
from claims.tests.factories import ClaimFactory
from clinical import services
from clinical.models import Appointment
from clinical.tests.factories import AppointmentFactory, ClinicalNoteFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def patient(practice):
    return PatientFactory(practice=practice, first_name="Eleanor", last_name="Whitfield")


@pytest.fixture
def provider(practice):
    return ProviderFactory(practice=practice, first_name="Dana", last_name="Doctor")


@pytest.fixture
def appointment(patient, provider):
    # 15:00 UTC is 9:00 AM in Chicago (the factory practice's zone) on 11/30/2026.
    return AppointmentFactory(practice=patient.practice, patient=patient, provider=provider, reason="Cough")


def _tab_urls(patient) -> list[str]:
    return [f"/notes/patients/{patient.pk}/{tab}/" for tab in ("encounters", "notes", "claims")]


# Every tab


@pytest.mark.parametrize("tab", ["encounters", "notes", "claims"])
def test_it_renders_each_tab_as_a_full_page_for_owner_and_teammate(owner_client, teammate_client, patient, tab):
    for client in (owner_client, teammate_client):
        response = client.get(f"/notes/patients/{patient.pk}/{tab}/")

        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" in body and 'id="patient-chart"' in body and "Eleanor" in body
        assert f'href="/notes/patients/{patient.pk}/{tab}/"' in body and 'aria-current="page">' in body


@pytest.mark.parametrize("tab", ["encounters", "notes", "claims"])
def test_it_renders_each_tab_as_the_chart_partial_for_htmx(owner_client, patient, tab):
    response = owner_client.get(f"/notes/patients/{patient.pk}/{tab}/", headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="patient-chart"') and "<html" not in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_it_hides_another_practices_patient(outsider_client, patient):
    for url in _tab_urls(patient):
        assert outsider_client.get(url).status_code == 404


def test_it_answers_404_for_an_unknown_patient(owner_client):
    assert owner_client.get("/notes/patients/999999/notes/").status_code == 404


def test_it_refuses_a_post_to_a_tab(owner_client, patient):
    for url in _tab_urls(patient):
        assert owner_client.post(url).status_code == 405


def test_it_sends_anonymous_users_to_sign_in(client, patient):
    for url in _tab_urls(patient):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_adds_the_tab_bar_to_the_patient_account_page(owner_client, patient):
    body = owner_client.get(f"/billing/patients/{patient.pk}/").content.decode()

    assert 'id="patient-chart"' in body
    assert f'hx-get="/notes/patients/{patient.pk}/encounters/"' in body
    assert f'hx-get="/documents/patients/{patient.pk}/"' in body


# Encounters


def test_it_lists_appointments_in_the_practices_time_zone_with_their_notes_and_claims(owner_client, appointment):
    note = ClinicalNoteFactory(practice=appointment.practice, patient=appointment.patient, appointment=appointment)
    claim = ClaimFactory(practice=appointment.practice, patient=appointment.patient, claim_number="BP000042")
    appointment.claims.add(claim)

    body = owner_client.get(f"/notes/patients/{appointment.patient_id}/encounters/").content.decode()

    assert "11/30/2026" in body and "9:00 AM" in body
    assert "Dana Doctor" in body and "Cough" in body and "Follow-up" in body
    assert f"/notes/{note.pk}/" in body and "BP000042" in body
    for label in ("Arrived", "Completed", "No-show", "Cancel"):
        assert f">{label}</button>" in body


def test_it_schedules_an_appointment_in_the_practices_time_zone(teammate_client, patient, provider):
    response = teammate_client.post(
        f"/notes/patients/{patient.pk}/encounters/new/",
        {
            "provider": provider.pk,
            "starts_at": "2020-01-15T09:30",
            "duration_minutes": "45",
            "kind": "new_patient",
            "reason": " Knee pain ",
        },
    )

    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notes/patients/{patient.pk}/encounters/"
    assert appointment.starts_at == datetime(2020, 1, 15, 15, 30, tzinfo=UTC)  # a past date is allowed
    assert (appointment.patient, appointment.provider, appointment.duration_minutes) == (patient, provider, 45)
    assert (appointment.kind, appointment.status, appointment.reason) == ("new_patient", "scheduled", "Knee pain")


def test_it_answers_an_htmx_schedule_with_the_refreshed_tab(owner_client, patient, provider):
    response = owner_client.post(
        f"/notes/patients/{patient.pk}/encounters/new/",
        {"provider": provider.pk, "starts_at": "2026-12-01T10:00", "duration_minutes": "30", "kind": "follow_up"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="patient-chart"' in body and "12/01/2026" in body and "Appointment scheduled." in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_at": "tomorrow"}, "Enter a date and time"),
        ({"starts_at": "2026-03-08T02:30"}, "That time does not exist here"),
        ({"duration_minutes": "2"}, "greater than or equal to 5"),
        ({"kind": "party"}, "Select a valid choice"),
        ({"provider": ""}, "This field is required."),
    ],
)
def test_it_shows_clear_errors_for_bad_appointments(owner_client, patient, provider, changes, message):
    data = {"provider": provider.pk, "starts_at": "2026-12-01T10:00", "duration_minutes": "30", "kind": "follow_up"}

    response = owner_client.post(f"/notes/patients/{patient.pk}/encounters/new/", {**data, **changes})

    assert response.status_code == 400 and message in response.content.decode()
    assert not Appointment.objects.exists()


def test_it_refuses_another_practices_provider(owner_client, patient, other_practice):
    stranger = ProviderFactory(practice=other_practice)

    response = owner_client.post(
        f"/notes/patients/{patient.pk}/encounters/new/",
        {"provider": stranger.pk, "starts_at": "2026-12-01T10:00", "duration_minutes": "30", "kind": "follow_up"},
    )

    assert response.status_code == 400 and not Appointment.objects.exists()


def test_it_refuses_to_schedule_for_another_practices_patient(outsider_client, patient, provider):
    response = outsider_client.post(
        f"/notes/patients/{patient.pk}/encounters/new/",
        {"provider": provider.pk, "starts_at": "2026-12-01T10:00", "duration_minutes": "30", "kind": "follow_up"},
    )

    assert response.status_code == 404 and not Appointment.objects.exists()


def test_it_refuses_a_get_to_schedule(owner_client, patient):
    assert owner_client.get(f"/notes/patients/{patient.pk}/encounters/new/").status_code == 405


def test_the_service_refuses_a_patient_of_another_practice(practice, other_practice, provider):
    from django.core.exceptions import ValidationError

    stranger = PatientFactory(practice=other_practice)
    with pytest.raises(ValidationError):
        services.schedule_appointment(
            practice, patient=stranger, provider=provider, starts_at=datetime(2026, 12, 1, tzinfo=UTC)
        )


# Moving an appointment along


def test_it_marks_an_appointment_arrived_then_completed(teammate_client, appointment):
    url = f"/notes/appointments/{appointment.pk}/status/"

    first = teammate_client.post(url, {"status": "arrived"})
    second = teammate_client.post(url, {"status": "completed"}, headers=HTMX)

    appointment.refresh_from_db()
    assert first.status_code == 302 and first["Location"] == f"/notes/patients/{appointment.patient_id}/encounters/"
    assert second.status_code == 200 and 'id="patient-chart"' in second.content.decode()
    assert appointment.status == "completed"


def test_it_refuses_a_move_the_status_does_not_allow(owner_client, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status="completed")

    response = owner_client.post(f"/notes/appointments/{appointment.pk}/status/", {"status": "no_show"})

    appointment.refresh_from_db()
    assert response.status_code == 400
    assert "A completed appointment cannot be marked no-show." in response.content.decode()
    assert appointment.status == "completed"


def test_it_refuses_an_unknown_status(owner_client, appointment):
    response = owner_client.post(f"/notes/appointments/{appointment.pk}/status/", {"status": "teleported"})

    assert response.status_code == 400 and Appointment.objects.get().status == "scheduled"


def test_it_hides_another_practices_appointment(outsider_client, appointment):
    response = outsider_client.post(f"/notes/appointments/{appointment.pk}/status/", {"status": "canceled"})

    assert response.status_code == 404 and Appointment.objects.get().status == "scheduled"


def test_it_refuses_a_get_to_move(owner_client, appointment):
    assert owner_client.get(f"/notes/appointments/{appointment.pk}/status/").status_code == 405


def test_it_sends_anonymous_movers_to_sign_in(client, appointment):
    response = client.post(f"/notes/appointments/{appointment.pk}/status/", {"status": "canceled"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# Notes and claims


def test_it_lists_the_patients_current_notes_with_a_prefilled_start_link(owner_client, patient):
    note = ClinicalNoteFactory(practice=patient.practice, patient=patient)
    ClinicalNoteFactory(practice=patient.practice)  # another patient's

    body = owner_client.get(f"/notes/patients/{patient.pk}/notes/").content.decode()

    assert f"/notes/{note.pk}/" in body and body.count('id="note-') == 1
    assert f"/notes/new/?patient={patient.pk}" in body


def test_the_start_a_note_page_preselects_the_patient(owner_client, patient):
    body = owner_client.get(f"/notes/new/?patient={patient.pk}").content.decode()

    assert f'<option value="{patient.pk}" selected>' in body


def test_it_lists_the_patients_claims(owner_client, patient, practice):
    ClaimFactory(practice=practice, patient=patient, claim_number="CLM-MINE")
    ClaimFactory(practice=practice, claim_number="CLM-OTHER")

    body = owner_client.get(f"/notes/patients/{patient.pk}/claims/").content.decode()

    assert "CLM-MINE" in body and "CLM-OTHER" not in body


def test_it_answers_an_htmx_schedule_with_errors_as_a_400_the_panel_shows(owner_client, patient, provider):
    response = owner_client.post(
        f"/notes/patients/{patient.pk}/encounters/new/",
        {"provider": provider.pk, "starts_at": "", "duration_minutes": 30, "kind": "follow_up"},
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 400 and "<html" not in body and not Appointment.objects.exists()
    assert 'id="patient-chart"' in body and "data-swap-errors" in body
