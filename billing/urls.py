"""/billing/…: the billing pages and the remittance (835) pages."""

from __future__ import annotations

from billing import era_urls, page_urls

app_name = "billing"

urlpatterns = [*page_urls.urlpatterns, *era_urls.urlpatterns]
