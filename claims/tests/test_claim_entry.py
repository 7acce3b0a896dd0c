from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import JournalTransaction, LedgerEntry
from billingpulse.models import Patient
from billingpulse.tests.factories import PatientFactory, ProviderFactory
from billingpulse.tests.icd10 import load_codes
from claims.models import Claim, ClaimEvent, ClaimLine, InsurancePolicy
from claims.tests.factories import (
    ClaimLineFactory,
    InsurancePolicyFactory,
    LedgerClaimFactory,
    PayerFactory,
)
from claims.tests.ledger_checks import assert_books_agree

pytestmark = pytest.mark.django_db

URL = "/claims/new/"


@pytest.fixture
def payer(practice):
    return PayerFactory(practice=practice, name="Aetna", payer_id="60054")


@pytest.fixture
def patient(practice):
    return PatientFactory(
        practice=practice, first_name="Eleanor", last_name="Whitfield", date_of_birth=date(1961, 3, 9)
    )


@pytest.fixture
def policy(practice, patient, payer):
    return InsurancePolicyFactory(practice=practice, patient=patient, payer=payer, member_id="W123456789")


def _lines(*lines: dict, prefix: str = "lines", initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(lines)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, line in enumerate(lines):
        data.update({f"{prefix}-{index}-{name}": value for name, value in line.items()})
    return data


def _line(**changes) -> dict:
    return {
        "service_date": "",
        "procedure_code": "99213",
        "modifiers": "",
        "units": "1",
        "charge": "125.00",
        "diagnosis_pointers": "A",
        "place_of_service": "11",
        **changes,
    }


def _data(chosen_patient=None, chosen_payer=None, lines=None, **changes) -> dict:
    data = {
        "patient": chosen_patient.pk if chosen_patient else "",
        "payer": chosen_payer.pk if chosen_payer else "",
        "policy": "",
        "member_id": "",
        "provider": "",
        "claim_number": "CLM-9001",
        "service_date_from": "2026-11-02",
        "service_date_to": "",
        "diagnosis_codes": "E11.9, I10",
        **_lines(*(lines if lines is not None else [_line()])),
    }
    return {**data, **changes}


def _written() -> tuple[int, ...]:
    models = (Claim, ClaimLine, ClaimEvent, Patient, InsurancePolicy, JournalTransaction, LedgerEntry)
    return tuple(model.objects.count() for model in models)


def test_it_shows_the_form_with_the_next_claim_number(owner_client):
    response = owner_client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="claim_number"' in body and 'value="BP000001"' in body
    assert 'name="lines-TOTAL_FORMS"' in body
    assert "Add line" in body


def test_it_creates_a_claim_for_an_existing_patient_and_posts_its_charge(
    owner_client, owner, practice, patient, payer, policy
):
    provider = ProviderFactory(practice=practice)
    data = _data(
        patient,
        payer,
        [
            _line(),
            _line(procedure_code="36415", modifiers="25, lt", units="2", charge="30.50", diagnosis_pointers="ab"),
        ],
        policy=policy.pk,
        provider=provider.pk,
        diagnosis_codes="e119 I10",
    )

    response = owner_client.post(URL, data)

    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/claims/{claim.pk}/"
    assert (claim.practice, claim.patient, claim.payer, claim.policy, claim.provider) == (
        practice,
        patient,
        payer,
        policy,
        provider,
    )
    assert (claim.claim_number, claim.service_date_from, claim.diagnosis_codes) == (
        "CLM-9001",
        date(2026, 11, 2),
        ["E11.9", "I10"],
    )
    lines = list(claim.lines.values_list("line_number", "procedure_code", "modifiers", "units", "charge"))
    assert lines == [
        (1, "99213", [], Decimal("1"), Decimal("125.00")),
        (2, "36415", ["25", "LT"], Decimal("2"), Decimal("30.50")),
    ]
    assert claim.lines.get(line_number=2).diagnosis_pointers == "AB"
    assert (claim.status, claim.total_charge, claim.balance) == ("submitted", Decimal("155.50"), Decimal("155.50"))
    charge = claim.ledger.get()
    assert (charge.kind, charge.source, charge.created_by) == ("charge", "manual", owner)
    assert_books_agree(claim)
    event = claim.events.get()
    assert (event.kind, event.actor, event.message) == ("created", owner, "Entered by hand.")


def test_it_shows_on_the_timeline_who_entered_the_claim(owner_client, patient, payer):
    owner_client.post(URL, _data(patient, payer))

    body = owner_client.get(f"/claims/{Claim.objects.get().pk}/").content.decode()
    assert "Entered by hand." in body and "Alice Admin" in body


def test_it_creates_a_new_patient_and_policy_with_the_claim(owner_client, practice, payer):
    data = _data(
        None,
        payer,
        claim_number="",
        member_id="ZX998877",
        **{
            "new_patient-first_name": "Marcus",
            "new_patient-last_name": "Bell",
            "new_patient-date_of_birth": "1984-07-21",
            "new_patient-sex": "M",
        },
    )

    response = owner_client.post(URL, data)

    assert response.status_code == 302
    claim = Claim.objects.get()
    patient = Patient.objects.get()
    assert (patient.practice, patient.full_name, patient.date_of_birth, patient.sex) == (
        practice,
        "Marcus Bell",
        date(1984, 7, 21),
        "M",
    )
    assert claim.patient == patient
    assert (claim.policy.patient, claim.policy.payer, claim.policy.member_id) == (patient, payer, "ZX998877")
    assert claim.policy.practice == practice
    assert claim.claim_number == "BP000001"  # left empty: the practice's next number
    assert claim.balance == Decimal("125.00")


def test_it_reuses_the_patients_policy_when_the_member_id_is_on_file(owner_client, patient, payer, policy):
    owner_client.post(URL, _data(patient, payer, member_id="W123456789"))

    assert Claim.objects.get().policy == policy
    assert InsurancePolicy.objects.count() == 1


def test_it_lets_staff_enter_claims(teammate_client, patient, payer):
    assert teammate_client.post(URL, _data(patient, payer)).status_code == 302
    assert Claim.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "line", "message"),
    [
        ({"diagnosis_codes": "E11.9, 99213"}, {}, "99213 is not ICD-10"),
        ({}, {"procedure_code": "Z9999"}, "A CPT or HCPCS code has five characters"),
        ({}, {"charge": "-10.00"}, "Ensure this value is greater than or equal to 0.00."),
        ({}, {"charge": "abc"}, "Enter a number."),
        ({}, {"modifiers": "25, L"}, "A modifier is two characters"),
        ({}, {"diagnosis_pointers": "C"}, "Pointer C has no diagnosis code"),
        ({"service_date_to": "2026-11-01"}, {}, "cannot be before the first"),
        ({"service_date_from": "1026-11-02"}, {}, "Enter a date between"),
    ],
)
def test_it_refuses_invalid_entries_keeping_what_was_typed(owner_client, patient, payer, changes, line, message):
    before = _written()

    response = owner_client.post(URL, _data(patient, payer, [_line(**line)], **changes))

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'class="error"' in body
    assert 'value="CLM-9001"' in body  # everything typed comes back
    for value in {**changes, **line}.values():
        assert value in body
    assert _written() == before


def test_it_refuses_codes_the_loaded_code_set_does_not_bill(owner_client, patient, payer):
    load_codes()

    response = owner_client.post(URL, _data(patient, payer, diagnosis_codes="E11, E11.99"))

    assert response.status_code == 400
    body = response.content.decode()
    assert "E11 is a category, not a billable code; pick a billable code such as E11.9." in body
    assert "E11.99 is not an ICD-10-CM code" in body
    assert not Claim.objects.exists()


def test_it_refuses_a_claim_without_service_lines(owner_client, patient, payer):
    before = _written()

    response = owner_client.post(
        URL,
        _data(
            patient, payer, [_line(procedure_code="", units="1", charge="", place_of_service="", diagnosis_pointers="")]
        ),
    )

    assert response.status_code == 400
    assert "Add at least one service line." in response.content.decode()
    assert _written() == before


def test_it_needs_a_patient(owner_client, payer):
    response = owner_client.post(URL, _data(None, payer))

    assert response.status_code == 400
    assert "Choose a patient, or add a new one." in response.content.decode()
    assert not Claim.objects.exists()


def test_it_refuses_a_new_patient_who_is_already_on_file(owner_client, patient, payer):
    data = _data(
        None,
        payer,
        **{
            "new_patient-first_name": "eleanor",
            "new_patient-last_name": "Whitfield",
            "new_patient-date_of_birth": "1961-03-09",
        },
    )

    response = owner_client.post(URL, data)

    assert response.status_code == 400
    assert "is already on file" in response.content.decode()
    assert Patient.objects.count() == 1


def test_it_refuses_a_claim_number_already_taken(owner_client, practice, patient, payer):
    LedgerClaimFactory(practice=practice, claim_number="CLM-9001")
    before = _written()

    response = owner_client.post(URL, _data(patient, payer))

    assert response.status_code == 400
    assert "Another claim in this practice has this claim number." in response.content.decode()
    assert _written() == before


def test_it_refuses_a_policy_of_another_payer(owner_client, practice, patient, payer):
    other = InsurancePolicyFactory(practice=practice, patient=patient, payer=PayerFactory(practice=practice))

    response = owner_client.post(URL, _data(patient, payer, policy=other.pk))

    assert response.status_code == 400
    assert "not the patient&#x27;s policy with this payer" in response.content.decode()
    assert not Claim.objects.exists()


@pytest.mark.parametrize("field", ["patient", "payer", "policy", "provider"])
def test_it_refuses_another_practices_rows_as_not_a_choice(owner_client, other_practice, patient, payer, field):
    foreign_patient = PatientFactory(practice=other_practice, first_name="Zebediah", last_name="Outsideson")
    foreign = {
        "patient": foreign_patient,
        "payer": PayerFactory(practice=other_practice),
        "policy": InsurancePolicyFactory(practice=other_practice, patient=foreign_patient),
        "provider": ProviderFactory(practice=other_practice),
    }[field]

    response = owner_client.post(URL, _data(patient, payer, **{field: foreign.pk}))

    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice. That choice is not one of the available choices." in body
    assert "Outsideson" not in body
    assert not Claim.objects.filter(practice=patient.practice).exists()


@pytest.mark.parametrize(
    "garbage",
    [
        {"patient": "99999999999999999999999"},
        {"payer": "1; DROP TABLE"},
        {"lines-TOTAL_FORMS": "many"},
        {"lines-TOTAL_FORMS": "100000"},
        {"lines-0-units": "1e999"},
        {"lines-0-charge": "NaN"},
        {"lines-0-charge": "99999999999999999"},
        {"lines-0-service_date": "2026-02-31"},
        {"new_patient-date_of_birth": "0000-00-00", "new_patient-first_name": "A", "patient": ""},
        {"diagnosis_codes": "\x00" * 50},
        {"claim_number": "x" * 500},
    ],
)
def test_it_answers_garbage_with_field_errors(owner_client, patient, payer, garbage):
    response = owner_client.post(URL, _data(patient, payer, **garbage))

    assert response.status_code == 400
    assert not Claim.objects.exists()


def test_it_refuses_a_total_too_large_for_the_books(owner_client, patient, payer):
    big = _line(charge="9999999999.99")

    response = owner_client.post(URL, _data(patient, payer, [big, big]))

    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not Claim.objects.exists()


def test_it_finds_the_practices_patients_by_name_or_birth_date(owner_client, practice, other_practice, patient):
    PatientFactory(practice=practice, first_name="Marcus", last_name="Bell")
    PatientFactory(practice=other_practice, first_name="Eleanor", last_name="Whitfield")

    response = owner_client.get("/claims/new/patients/", {"patient_q": "whit"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="patient-results"' in body and "<html" not in body
    assert body.count('name="patient"') == 1 and f'value="{patient.pk}"' in body
    by_birth = owner_client.get("/claims/new/patients/", {"patient_q": "03/09/1961"}, headers={"HX-Request": "true"})
    assert f'value="{patient.pk}"' in by_birth.content.decode()


def test_it_finds_patients_without_javascript(owner_client, patient, payer):
    response = owner_client.post(URL, {**_data(None, payer), "patient_q": "Eleanor", "find_patient": "1"})

    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{patient.pk}"' in body and 'value="CLM-9001"' in body
    assert not Claim.objects.exists()


def test_it_offers_the_patients_policies_with_the_payer(owner_client, practice, patient, payer, policy):
    InsurancePolicyFactory(
        practice=practice, patient=patient, payer=PayerFactory(practice=practice), member_id="OTHER1"
    )

    response = owner_client.get(
        "/claims/new/policies/", {"patient": patient.pk, "payer": payer.pk}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="policy-field"' in body and "<html" not in body
    assert "W123456789" in body and "OTHER1" not in body


def test_it_adds_a_line_row(owner_client):
    response = owner_client.get("/claims/new/line/", {"lines-TOTAL_FORMS": "3"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-3-procedure_code"' in body
    assert 'id="id_lines-TOTAL_FORMS"' in body and 'value="4"' in body and 'hx-swap-oob="true"' in body


def test_it_adds_a_line_without_javascript(owner_client, patient, payer):
    response = owner_client.post(URL, {**_data(patient, payer), "add_line": "1"})

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines-1-procedure_code"' in body and 'value="99213"' in body
    assert not Claim.objects.exists()


def test_it_rejects_other_methods(owner_client):
    assert owner_client.put(URL).status_code == 405


@pytest.mark.parametrize("url", [URL, "/claims/new/patients/", "/claims/new/policies/", "/claims/new/line/"])
def test_it_sends_anonymous_users_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/claims/new/patients/", "/claims/new/policies/"])
def test_its_pieces_send_a_plain_request_to_the_page(owner_client, url):
    response = owner_client.get(url, {"patient_q": "whit"})

    assert (response.status_code, response["Location"]) == (302, URL)


def test_it_refuses_more_lines_than_a_claim_holds(owner_client):
    response = owner_client.get("/claims/new/line/", {"lines-TOTAL_FORMS": "50"}, headers={"HX-Request": "true"})

    assert response.status_code == 400


def test_the_worklist_links_to_the_new_claim_page(owner_client):
    assert 'href="/claims/new/"' in owner_client.get("/claims/").content.decode()


# -- the edit page's service lines -----------------------------------------------------------


def _edit_data(claim, lines: list[dict], **changes) -> dict:
    data = {
        "provider": claim.provider_id or "",
        "claim_type": claim.claim_type,
        "claim_form": claim.claim_form,
        "service_date_from": claim.service_date_from.isoformat(),
        "service_date_to": "",
        "diagnosis_codes": ", ".join(claim.diagnosis_codes),
        "total_charge": str(claim.total_charge),
        "allowed_amount": "",
        "denial_code": "",
        "denial_reason": "",
        "next_follow_up_date": "",
        "call_reference_number": "",
        **_lines(*lines, initial=claim.lines.count()),
    }
    return {**data, **changes}


@pytest.fixture
def ledger_claim(practice):
    claim = LedgerClaimFactory(practice=practice, total_charge=Decimal("250.00"), diagnosis_codes=["E11.9"])
    ClaimLineFactory(claim=claim, line_number=1, procedure_code="99214", charge=Decimal("250.00"))
    return claim


def test_the_edit_page_shows_the_lines(owner_client, ledger_claim):
    body = owner_client.get(f"/claims/{ledger_claim.pk}/edit/").content.decode()

    assert 'name="lines-0-procedure_code"' in body and 'value="99214"' in body


def test_editing_the_lines_posts_the_charge_difference(owner_client, owner, ledger_claim):
    lines = [
        _line(procedure_code="99214", charge="250.00", place_of_service="", diagnosis_pointers=""),
        _line(procedure_code="36415", charge="100.00"),
    ]

    response = owner_client.post(f"/claims/{ledger_claim.pk}/edit/", _edit_data(ledger_claim, lines))

    assert response.status_code == 302
    ledger_claim.refresh_from_db()
    assert list(ledger_claim.lines.values_list("procedure_code", "charge")) == [
        ("99214", Decimal("250.00")),
        ("36415", Decimal("100.00")),
    ]
    assert (ledger_claim.total_charge, ledger_claim.balance) == (Decimal("350.00"), Decimal("350.00"))
    correction = ledger_claim.ledger.order_by("pk").last()
    assert (correction.kind, correction.created_by) == ("charge", owner)
    assert {(e.account, e.amount) for e in correction.entries.all()} == {
        ("primary_ar", Decimal("100.00")),
        ("charges", Decimal("-100.00")),
    }
    assert_books_agree(ledger_claim)
    messages = set(ledger_claim.events.values_list("message", flat=True))
    assert messages == {"Changed the service lines.", "Changed total charge."}


def test_removing_a_line_lowers_the_charge(owner_client, ledger_claim):
    ClaimLineFactory(claim=ledger_claim, line_number=2, procedure_code="36415", charge=Decimal("0.00"))
    lines = [
        _line(procedure_code="99214", charge="200.00", place_of_service="", diagnosis_pointers=""),
        _line(procedure_code="36415", charge="0.00", place_of_service="", diagnosis_pointers="", DELETE="on"),
    ]

    owner_client.post(f"/claims/{ledger_claim.pk}/edit/", _edit_data(ledger_claim, lines))

    ledger_claim.refresh_from_db()
    assert list(ledger_claim.lines.values_list("procedure_code", flat=True)) == ["99214"]
    assert (ledger_claim.total_charge, ledger_claim.balance) == (Decimal("200.00"), Decimal("200.00"))
    assert_books_agree(ledger_claim)


def test_editing_keeps_the_lines_and_the_charge_when_they_are_unchanged(owner_client, ledger_claim):
    lines = [_line(procedure_code="99214", charge="250.00", place_of_service="", diagnosis_pointers="")]

    response = owner_client.post(
        f"/claims/{ledger_claim.pk}/edit/", _edit_data(ledger_claim, lines, call_reference_number="REF-7")
    )

    assert response.status_code == 302
    assert ledger_claim.ledger.count() == 1
    assert list(ledger_claim.events.values_list("message", flat=True)) == ["Changed call reference number."]


def test_editing_refuses_a_total_that_is_not_the_lines_sum(owner_client, ledger_claim):
    lines = [_line(procedure_code="99214", charge="300.00", place_of_service="", diagnosis_pointers="")]

    response = owner_client.post(
        f"/claims/{ledger_claim.pk}/edit/", _edit_data(ledger_claim, lines, total_charge="310")
    )

    assert "the sum of its service lines" in response.content.decode()
    ledger_claim.refresh_from_db()
    assert ledger_claim.total_charge == Decimal("250.00")
    assert ledger_claim.lines.get().charge == Decimal("250.00")


def test_editing_refuses_an_invalid_line_and_writes_nothing(owner_client, ledger_claim):
    lines = [_line(procedure_code="99214", charge="250.00"), _line(procedure_code="BAD")]

    response = owner_client.post(f"/claims/{ledger_claim.pk}/edit/", _edit_data(ledger_claim, lines))

    assert "A CPT or HCPCS code has five characters" in response.content.decode()
    assert ledger_claim.lines.count() == 1 and ledger_claim.ledger.count() == 1
    assert not ledger_claim.events.exists()
