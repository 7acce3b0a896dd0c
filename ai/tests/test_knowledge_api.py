from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from ai import knowledge, services
from ai.models import DenialCode, PayerPolicy
from ai.tests.factories import PayerPolicyFactory

pytestmark = pytest.mark.django_db

CODES = "/api/v1/knowledge/denial-codes"
POLICIES = "/api/v1/knowledge/payer-policies"


def test_it_adds_and_updates_denial_codes_from_a_list(api, practice):
    body = [
        {"code": "CO-16", "description": "Our wording for 16.", "remedy": "Fix and resubmit."},
        {"code": "A1", "description": "Claim denied; see the remark codes."},
    ]

    response = api.post(CODES, body, format="json")

    assert response.status_code == 201, response.json()
    assert [entry["code"] for entry in response.json()] == ["16", "A1"]
    code_16 = DenialCode.objects.get(practice=practice, code="16")  # the starter entry, updated in place
    assert code_16.description == "Our wording for 16."
    assert DenialCode.objects.filter(practice=practice, code="16").count() == 1
    assert response.json()[0]["id"] == code_16.pk


def test_it_saves_nothing_when_one_entry_is_bad_and_names_each_problem(api, practice):
    before = DenialCode.objects.filter(practice=practice).count()
    body = [
        {"code": "900", "description": "Fine."},
        {"code": "CO-1234", "description": ""},
        {"code": "901", "description": "Fine.", "colour": "red"},
        "not an object",
    ]

    response = api.post(CODES, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert errors[0] == {}
    assert set(errors[1]) == {"code", "description"}
    assert "16, 197 or B7" in errors[1]["code"][0]
    assert "Unknown field" in errors[2]["colour"][0]
    assert "non_field_errors" in errors[3]
    assert DenialCode.objects.filter(practice=practice).count() == before


def test_it_rejects_a_code_twice_in_one_list(api):
    response = api.post(
        CODES, [{"code": "16", "description": "a"}, {"code": "CO-16", "description": "b"}], format="json"
    )

    assert response.status_code == 400
    assert response.json()[1] == {"non_field_errors": ["Same entry as number 0 in this list."]}


@pytest.mark.parametrize("body", [{"code": "16", "description": "one entry, not a list"}, []])
def test_it_wants_a_non_empty_list(api, body):
    response = api.post(CODES, body, format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_it_adds_payer_policies_and_updates_one_with_the_same_payer_title_and_date(api, practice):
    entry = {"payer": "Aetna", "title": "Timely filing", "text": "90 days.", "effective_date": "2026-01-01"}
    assert api.post(POLICIES, [entry], format="json").status_code == 201

    response = api.post(
        POLICIES, [{**entry, "payer": "AETNA", "text": "120 days."}, {"payer": "Cigna", "text": "x"}], format="json"
    )

    assert response.status_code == 201
    assert PayerPolicy.objects.filter(practice=practice).count() == 2
    assert PayerPolicy.objects.get(practice=practice, title="Timely filing").text == "120 days."


def test_it_reports_a_bad_policy_date(api):
    response = api.post(POLICIES, [{"payer": "Aetna", "text": "x", "effective_date": "01/02/2026"}], format="json")

    assert response.status_code == 400
    assert "effective_date" in response.json()[0]


def test_it_lists_only_the_callers_practice_page_by_page(api, practice, other_practice):
    PayerPolicyFactory(practice=practice, payer="Aetna")
    PayerPolicyFactory(practice=other_practice, payer="Bravo Only Payer")

    codes = api.get(CODES, {"page_size": 10}).json()
    policies = api.get(POLICIES).json()
    found = api.get(CODES, {"search": "authorization"}).json()

    assert codes["count"] == DenialCode.objects.filter(practice=practice).count()
    assert len(codes["results"]) == 10
    assert [p["payer"] for p in policies["results"]] == ["Aetna"]
    assert found["count"] >= 2 and all(r["code"] for r in found["results"])


def test_it_reads_changes_and_deletes_one_entry(api, practice):
    entry = DenialCode.objects.get(practice=practice, code="16")

    assert api.get(f"{CODES}/{entry.pk}").json()["code"] == "16"
    changed = api.patch(f"{CODES}/{entry.pk}", {"remedy": "Call the payer."}, format="json")
    assert changed.status_code == 200
    assert changed.json()["remedy"] == "Call the payer."
    clash = api.patch(f"{CODES}/{entry.pk}", {"code": "CO-197"}, format="json")
    assert clash.status_code == 400
    assert "already in the knowledge base" in clash.json()["code"][0]
    assert api.delete(f"{CODES}/{entry.pk}").status_code == 204
    assert not DenialCode.objects.filter(pk=entry.pk).exists()


def test_it_hides_another_practices_entries(api, other_practice):
    theirs = DenialCode.objects.filter(practice=other_practice).first()
    policy = PayerPolicyFactory(practice=other_practice)

    for url in (f"{CODES}/{theirs.pk}", f"{POLICIES}/{policy.pk}"):
        assert api.get(url).status_code == 404
        assert api.patch(url, {"text": "x", "description": "x"}, format="json").status_code == 404
        assert api.delete(url).status_code == 404
    assert DenialCode.objects.filter(pk=theirs.pk).exists()
    assert PayerPolicy.objects.filter(pk=policy.pk).exists()


def test_it_lets_staff_read_but_not_write(teammate_api, practice):
    entry = DenialCode.objects.get(practice=practice, code="16")

    assert teammate_api.get(CODES).status_code == 200
    assert teammate_api.post(CODES, [{"code": "900", "description": "x"}], format="json").status_code == 403
    assert teammate_api.patch(f"{CODES}/{entry.pk}", {"remedy": "x"}, format="json").status_code == 403
    assert teammate_api.delete(f"{CODES}/{entry.pk}").status_code == 403


def test_it_needs_a_signed_in_caller():
    assert APIClient().get(CODES).status_code == 401
    assert APIClient().post(POLICIES, [], format="json").status_code == 401


def test_it_works_with_a_session_too(owner_client):
    response = owner_client.post(CODES, [{"code": "900", "description": "x"}], content_type="application/json")

    assert response.status_code == 201


def test_it_indexes_what_it_saved_once_committed(api, practice, knowledge_index, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(POLICIES, [{"payer": "Aetna", "text": "Appeals go to the fax line."}], format="json")

    pk = response.json()[0]["id"]
    stored = knowledge.collection(knowledge.PAYER_POLICIES).get(ids=[f"payer-policy:{pk}"])
    assert stored["ids"] == [f"payer-policy:{pk}"]


def test_it_keeps_the_openapi_schema_valid(owner_client):
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    schema = owner_client.get("/api/schema/").content.decode()
    assert "/api/v1/knowledge/denial-codes" in schema
    assert "/api/v1/knowledge/payer-policies/{id}" in schema


def test_the_schema_documents_the_list_a_bulk_add_answers_not_a_page(owner_client):
    schema = owner_client.get("/api/schema/?format=json").json()

    for path, component in (("denial-codes", "DenialCode"), ("payer-policies", "PayerPolicy")):
        operations = schema["paths"][f"/api/v1/knowledge/{path}"]
        created = operations["post"]["responses"]["201"]["content"]["application/json"]["schema"]
        assert created == {"type": "array", "items": {"$ref": f"#/components/schemas/{component}"}}
        listed = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert listed == {"$ref": f"#/components/schemas/Paginated{component}List"}


def test_it_tidies_a_changed_payer_name_as_the_pages_do(api, practice):
    policy = PayerPolicyFactory(practice=practice, payer="Aetna")

    response = api.patch(f"{POLICIES}/{policy.pk}", {"payer": "  Blue   Cross  "}, format="json")

    assert response.status_code == 200
    assert response.json()["payer"] == "Blue Cross"


def test_a_code_added_by_another_upload_after_the_look_is_updated_not_refused(api, practice, monkeypatch):
    # Two uploads at once: ours looks for the code, theirs inserts it, ours inserts.
    look = services._existing

    def look_then_lose_the_race(practice_id, kind, values):
        found = look(practice_id, kind, values)
        if found is None and not DenialCode.objects.filter(practice_id=practice_id, code=values["code"]).exists():
            DenialCode.objects.create(practice_id=practice_id, code=values["code"], description="Theirs.")
        return found

    monkeypatch.setattr(services, "_existing", look_then_lose_the_race)

    response = api.post(CODES, [{"code": "A1", "description": "Ours."}], format="json")

    assert response.status_code == 201, response.json()
    [entry] = DenialCode.objects.filter(practice=practice, code="A1")
    assert (entry.description, response.json()[0]["id"]) == ("Ours.", entry.pk)


def test_a_code_taken_after_the_check_is_the_checks_400_on_update(api, practice, monkeypatch):
    entry = DenialCode.objects.create(practice=practice, code="A1", description="Ours.")

    def check_then_lose_the_race(practice_, code, pk=None):
        DenialCode.objects.create(practice=practice_, code=code, description="Theirs.")
        return False

    monkeypatch.setattr("ai.api.code_in_use", check_then_lose_the_race)

    response = api.patch(f"{CODES}/{entry.pk}", {"code": "A2"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": ["This reason code is already in the knowledge base; edit that entry."]}
    entry.refresh_from_db()
    assert entry.code == "A1"
