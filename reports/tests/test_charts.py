from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string

from reports import charts


def test_nice_ceiling_rounds_up_to_a_readable_axis_maximum():
    assert [charts.nice_ceiling(v) for v in (0, 0.7, 7, 13, 24, 26, 99, 1234)] == [1, 1, 10, 20, 25, 50, 100, 2000]


def test_compact_axis_labels():
    assert charts.compact(12500, True) == "$12.5k"
    assert charts.compact(2_000_000, True) == "$2M"
    assert charts.compact(40, False) == "40"


def test_bars_scale_to_the_largest_value_and_keep_their_links():
    chart = charts.bar_chart("t", "Title", "Desc", [charts.Item("A", 10, href="/a"), charts.Item("B", 5)])

    assert chart.marks[0].width == 2 * chart.marks[1].width
    assert chart.marks[0].href == "/a"
    assert chart.table_rows[0]["cells"][0] == {"display": "10", "href": "/a"}


def test_a_chart_renders_as_an_accessible_svg_with_a_table_and_no_inline_style():
    chart = charts.stacked_bar_chart(
        "aging",
        "Outstanding",
        "By payer & age",
        [
            (
                "Aetna",
                [charts.Item("0–30", Decimal("10.00"), href="/claims/?age=0-30"), charts.Item("31–60", Decimal(0))],
            )
        ],
        ["0–30", "31–60"],
    )

    html = render_to_string("reports/includes/chart.html", {"chart": chart})

    assert 'role="img"' in html and 'aria-labelledby="aging-title aging-desc"' in html
    assert '<title id="aging-title">Outstanding</title>' in html
    assert '<desc id="aging-desc">By payer &amp; age</desc>' in html
    assert '<a href="/claims/?age=0-30" tabindex="-1">' in html
    assert '<td class="numeric"><a href="/claims/?age=0-30">$10.00</a></td>' in html
    assert "style=" not in html and "<script" not in html


def test_line_and_column_charts_draw_every_point():
    items = [charts.Item(f"Day {n}", n) for n in range(10)]

    line = charts.line_chart("l", "Calls", "Per day", items)
    columns = charts.bar_chart("c", "Calls", "Per day", items, vertical=True)

    assert len(line.line_points.split()) == 10 and len(line.marks) == 10
    assert len(columns.marks) == 10
    assert columns.marks[0].height == 0 and columns.marks[-1].height > 0
    assert render_to_string("reports/includes/chart.html", {"chart": line}).count("<circle") == 10


def test_an_empty_chart_says_so():
    html = render_to_string("reports/includes/chart.html", {"chart": charts.bar_chart("e", "Denials", "None", [])})

    assert "<svg" not in html
    assert "nothing in this period" in html
