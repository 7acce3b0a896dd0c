"""Links between the pages of a list page."""

from __future__ import annotations

from collections.abc import Callable

from django.core.paginator import Page


def page_links(page: Page, href: Callable[[int], str]) -> dict[str, str]:
    """Real hrefs for the previous and next pages (empty at either end); ``href(n)`` links page n."""
    return {
        "previous": href(page.previous_page_number()) if page.has_previous() else "",
        "next": href(page.next_page_number()) if page.has_next() else "",
    }
