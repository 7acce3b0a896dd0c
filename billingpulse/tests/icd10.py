"""Loading a small part of the ICD-10-CM code set for tests, through ``manage.py load_icd10``."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command

# The codes the tests, the factories (E11.9) and the demo data (E11.9, I10, R00.2, Z00.00,
# J06.9) use, with their categories.
PREFIXES = "E10,E11,I10,J06,R00,U07,U09,Z00,S72.001"
CDC_2027 = Path(__file__).parent / "data" / "icd10cm-2027"


def load_codes(prefixes: str = PREFIXES) -> str:
    """Load the package's codes starting with ``prefixes``; returns what the command printed."""
    out = StringIO()
    call_command("load_icd10", "--only", prefixes, stdout=out)
    return out.getvalue()


def load_cdc_2027() -> str:
    """Load the FY2027 sample in CDC's file formats (a handful of codes)."""
    out = StringIO()
    call_command("load_icd10", "--from-cdc-files", str(CDC_2027), stdout=out)
    return out.getvalue()
