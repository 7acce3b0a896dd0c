from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ai.models import DenialCode

BEFORE = [("ai", "0001_initial")]
AFTER = [("ai", "0002_starter_denial_codes")]


@pytest.mark.django_db(transaction=True)
def test_practices_from_before_the_knowledge_base_get_the_starter_codes_once():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    practice = old.get_model("billingpulse", "Practice").objects.create(name="Old Town Clinic")
    old.get_model("ai", "DenialCode").objects.create(practice_id=practice.pk, code="16", description="Our wording.")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    codes = DenialCode.objects.filter(practice_id=practice.pk)
    assert codes.count() == 48
    assert codes.get(code="16").description == "Our wording."  # the practice's own entry is kept
