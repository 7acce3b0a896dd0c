from __future__ import annotations

import pytest
from django.test import Client

from billingpulse.models import User
from billingpulse.tests.factories import InvitationFactory, PatientFactory, ProviderFactory
from claims.tests.factories import PayerFactory

ADMIN_PAGES = [
    "/admin/billingpulse/practice/",
    "/admin/billingpulse/user/",
    "/admin/billingpulse/patient/",
    "/admin/billingpulse/provider/",
    "/admin/billingpulse/invitation/",
    "/admin/claims/payer/",
]


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(User.objects.create_superuser("ops@billingpulse.example", "an-operator-password"))
    return client


@pytest.mark.django_db
def test_it_lets_superusers_use_every_model_page(superuser_client, practice):
    patient = PatientFactory(practice=practice)
    provider = ProviderFactory(practice=practice)
    PayerFactory(practice=practice)

    for url in ADMIN_PAGES:
        assert superuser_client.get(url).status_code == 200, url
        assert superuser_client.get(url + "?q=a").status_code == 200, url
    detail = superuser_client.get(f"/admin/billingpulse/patient/{patient.pk}/change/")
    assert detail.status_code == 200
    # Audit timestamps are shown but cannot be edited.
    assert b'name="created_at"' not in detail.content
    assert b"Created at" in detail.content
    assert superuser_client.get(f"/admin/billingpulse/provider/{provider.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/billingpulse/user/add/").status_code == 200


@pytest.mark.django_db
def test_it_keeps_practice_admins_out(owner, practice):
    # Even with Django's is_staff flag, a practice user is not an operator.
    owner.is_staff = True
    owner.save()
    client = Client()
    client.force_login(owner)

    response = client.get("/admin/billingpulse/patient/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_it_shows_invitations_read_only(superuser_client, practice):
    invitation = InvitationFactory(practice=practice, email="dana@new.example")

    detail = superuser_client.get(f"/admin/billingpulse/invitation/{invitation.pk}/change/")

    assert detail.status_code == 200
    assert b"dana@new.example" in detail.content
    assert b'name="email"' not in detail.content
    assert invitation.token_hash.encode() not in detail.content
    assert superuser_client.get("/admin/billingpulse/invitation/add/").status_code == 403
