"""Pages of a list page, and the links between them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def page_links(page: Page, href: Callable[[int], str]) -> dict[str, str]:
    """Real hrefs for the previous and next pages (empty at either end); ``href(n)`` links page n."""
    return {
        "previous": href(page.previous_page_number()) if page.has_previous() else "",
        "next": href(page.next_page_number()) if page.has_next() else "",
    }


@dataclass(frozen=True)
class Listing:
    page: Page
    pages: dict[str, str]  # previous/next hrefs
    total: int


def paginate(request: HttpRequest, items: QuerySet | Sequence[Any], per_page: int) -> Listing:
    """The page ``?page=`` asks for (the last one if past the end), with links to its neighbours
    that keep every other query parameter (search, filters)."""
    paginator = Paginator(items, per_page)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()

    def href(number: int) -> str:
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    return Listing(page=page, pages=page_links(page, href), total=paginator.count)
