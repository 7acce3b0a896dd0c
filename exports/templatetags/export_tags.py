from __future__ import annotations

from django import template
from django.http import QueryDict
from django.urls import reverse

register = template.Library()

# Parameters of a page that are not filters: an export holds every page, in its own format.
_NOT_FILTERS = ("page", "format")


@register.inclusion_tag("exports/includes/export_links.html", takes_context=True)
def export_links(context, url_name: str, label: str = "Export") -> dict:
    """CSV and XLSX links to ``url_name`` carrying the page's current filters, for admins only
    (staff see nothing: exports are an admin's job)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_practice_admin", False):
        return {"links": []}
    query = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name not in _NOT_FILTERS:
            query.setlist(name, [value for value in values if value])
    base = reverse(url_name)
    links = []
    for file_format, text in (("csv", "CSV"), ("xlsx", "Excel")):
        query["format"] = file_format
        links.append({"href": f"{base}?{query.urlencode()}", "text": text, "format": file_format})
    return {"links": links, "label": label}
