"""The code picker's options, one ``<li>`` per code found.

Built here rather than in a template loop: the picker answers every keystroke, and twenty
options through the template engine (or ``format_html``, with its lazy-string checks) took a
quarter of the request's time beside a search of a few milliseconds (bench/icd10_search.py).
Every value is escaped with ``html.escape``, as ``django.utils.html.escape`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from billingpulse.codes import Match

register = template.Library()

_CODE = '<span class="mono code-option-code">{code}</span> <span class="code-option-title">{description}</span>'
_BILLABLE = (
    '<li class="code-option" role="option" aria-selected="false" tabindex="0" id="code-option-{number}" '
    f'data-code="{{code}}" data-billable="true">{_CODE}</li>'
)
_CATEGORY = (
    '<li class="code-option code-option-header" role="option" aria-selected="false" aria-disabled="true" '
    f'id="code-option-{{number}}" data-code="{{code}}" data-billable="false">{_CODE} '
    '<span class="muted small">category: pick a billable code under it{example}</span></li>'
)


@register.simple_tag
def code_options(results: Sequence[Match]) -> SafeString:
    """Billable codes can be picked; a category is shown disabled, with a billable code under it."""
    return mark_safe("\n".join(_option(number, item) for number, item in enumerate(results, 1)))


def _option(number: int, item: Match) -> str:
    values = {"number": number, "code": escape(item.code), "description": escape(item.description)}
    if item.billable:
        return _BILLABLE.format(**values)
    example = f", like {escape(item.billable_example)}" if item.billable_example else ""
    return _CATEGORY.format(**values, example=example)
