from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_it_prints_what_it_checked():
    out = StringIO()

    call_command("reconcile_calls", stdout=out)

    assert out.getvalue().startswith("0 calls checked, 0 updated, 0 marked failed")
