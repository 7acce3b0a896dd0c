from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from billingpulse.lib.csv_export import csv_response, safe_cell, writer


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ('  =HYPERLINK("http://x.example")', '\'  =HYPERLINK("http://x.example")'),
        ("\n@x", "'\n@x"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("-A1", "'-A1"),
        ("+12.50", "'+12.50"),
        ("-1,250.00", "'-1,250.00"),
        ("-", "'-"),
    ],
    ids=repr,
)
def test_it_quotes_text_a_spreadsheet_would_run_as_a_formula(value, written):
    assert safe_cell(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        # Numbers are not formulas: a credit stays a number the biller can add up.
        (Decimal("-12.50"), Decimal("-12.50")),
        (-7, -7),
        (-0.5, -0.5),
        # So is text that is nothing but a plain number.
        ("-12.50", "-12.50"),
        ("-7", "-7"),
        # Ordinary text, and formula characters anywhere but the start.
        ("Maria Lopez", "Maria Lopez"),
        ("CO-16", "CO-16"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (date(2026, 3, 14), "2026-03-14"),
    ],
    ids=repr,
)
def test_it_writes_numbers_and_ordinary_text_as_they_are(value, written):
    assert safe_cell(value) == written


def test_it_writes_files_a_spreadsheet_reads_back_as_text():
    buffer = io.StringIO(newline="")

    out = writer(buffer)
    out.writerow(["Row", "Value"])
    out.writerows([[2, "=1+1"], [3, Decimal("-12.50")], [4, 'say "=hi", then go']])

    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["Row", "Value"],
        ["2", "'=1+1"],
        ["3", "-12.50"],
        ["4", 'say "=hi", then go'],
    ]


def test_it_streams_a_download_with_its_file_name():
    response = csv_response('März "final".csv', ["Row", "Value"], iter([(2, "@SUM(A1)"), (3, "-12.50")]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''M%C3%A4rz%20%22final%22.csv"
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == ["Row,Value", "2,'@SUM(A1)", "3,-12.50"]
