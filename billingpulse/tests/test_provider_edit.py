from __future__ import annotations

import pytest

from billingpulse.forms import ProviderForm
from billingpulse.models import Provider
from billingpulse.tests.factories import ProviderFactory

NEW = {"first_name": "Ada", "last_name": "Lovelace", "credentials": "MD", "npi": "1345678902", "taxonomy_code": ""}


@pytest.mark.django_db
def test_it_adds_a_provider_to_the_practice(owner_client, practice):
    response = owner_client.post("/settings/providers/new/", {**NEW, "is_active": "on"})

    assert response.status_code == 302
    provider = Provider.objects.get()
    assert provider.practice == practice
    assert provider.is_active


@pytest.mark.django_db
def test_it_explains_a_wrong_npi(owner_client):
    response = owner_client.post("/settings/providers/new/", {**NEW, "npi": "1345678901"})

    assert response.status_code == 200
    assert b"last digit does not match" in response.content
    assert not Provider.objects.exists()


@pytest.mark.django_db
def test_it_rejects_a_duplicate_npi_within_the_practice(owner_client, practice):
    ProviderFactory(practice=practice, npi="1345678902")

    response = owner_client.post("/settings/providers/new/", NEW)

    assert response.status_code == 200
    assert b"Another provider in this practice has this NPI." in response.content
    assert Provider.objects.count() == 1


@pytest.mark.django_db
def test_it_allows_the_same_npi_in_another_practice(owner_client, other_practice):
    ProviderFactory(practice=other_practice, npi="1345678902")

    assert owner_client.post("/settings/providers/new/", NEW).status_code == 302


@pytest.mark.django_db
def test_it_edits_a_provider(owner_client, practice):
    provider = ProviderFactory(practice=practice)

    owner_client.post(f"/settings/providers/{provider.pk}/", {**NEW, "npi": provider.npi, "last_name": "Byron"})

    provider.refresh_from_db()
    assert provider.last_name == "Byron"
    assert not provider.is_active


@pytest.mark.django_db
def test_it_hides_another_practices_provider(owner_client, other_practice):
    provider = ProviderFactory(practice=other_practice)

    assert owner_client.get(f"/settings/providers/{provider.pk}/").status_code == 404
    assert owner_client.post(f"/settings/providers/{provider.pk}/", NEW).status_code == 404


@pytest.mark.django_db
def test_it_is_for_admins_only(teammate_client, practice):
    provider = ProviderFactory(practice=practice)

    assert teammate_client.get(f"/settings/providers/{provider.pk}/").status_code == 403
    assert teammate_client.post("/settings/providers/new/", NEW).status_code == 403


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_provider(owner_client):
    assert owner_client.get("/settings/providers/424242/").status_code == 404


@pytest.mark.django_db
def test_an_npi_taken_after_the_form_checked_it_is_the_forms_error(owner_client, practice, monkeypatch):
    # Two admins add the same provider at once: ours checks, theirs saves, ours saves.
    check = ProviderForm.clean_npi

    def check_then_lose_the_race(form):
        npi = check(form)
        ProviderFactory(practice=practice, npi=npi)
        return npi

    monkeypatch.setattr(ProviderForm, "clean_npi", check_then_lose_the_race)

    response = owner_client.post("/settings/providers/new/", {**NEW, "is_active": "on"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"npi": ["Another provider in this practice has this NPI."]}
    assert Provider.objects.count() == 1
