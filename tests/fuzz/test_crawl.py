"""Every URL pattern and every HTML form, sent hostile values: nothing may answer with a 5xx.

Routes come from Django's resolver (``get_resolver()``, walked recursively), so a route added
later is crawled without anyone listing it. As each persona (a practice admin, a staff member,
someone signed out, an operator in the Django admin) the crawl

1. discovers pages: every route without parameters, then the links on each page (so path ids
   are real rows), and ids of the seeded practice's rows for routes no link reached;
2. sends each route's path parameters hostile values its converter accepts (0, a bigint
   overflow, 18 nines, long and NUL-bearing strings...), as GET and POST;
3. sends each page with ``HX-Request``, then hostile query strings: each query name found in
   its forms and links and each common one (page, q, status, sort, next...) in turn, then all
   of them at once; then with hostile headers (htmx's, X-Request-ID, Accept...) and with the
   methods its forms do not use (PUT, DELETE, OPTIONS);
4. submits each form once with the values a browser would send (also as htmx), then with each
   field in turn replaced by a hostile value (1 MB, 3000 characters, NUL bytes, lone
   surrogates, far dates, huge integers, NaN, deep JSON, a hostile file), with every field
   hostile at once, every field sent twice, and every field missing.

Which hostile value a field or parameter gets is fixed by its route and name (so every run
sends the same requests); each also always gets a NUL byte. Every request runs in a
rolled-back savepoint (and Redis rate limits are cleared after each), so no request changes
what the next one sees and the result does not depend on order; a request that signs the
persona out (logout, password change) is followed by signing in again. All server errors are
collected and reported together, grouped by cause. ``FUZZ_EXAMPLES=N`` tries N hostile values
per field, parameter and query name instead of one (and each field missing on its own).
"""

from __future__ import annotations

import time
import zlib
from collections import defaultdict, deque
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from billingpulse.tests.factories import PASSWORD, UserFactory
from tests.fuzz.crawl import (
    Crawler,
    Form,
    FormField,
    PageParser,
    Route,
    all_routes,
    encode_multipart,
    encode_query,
    local_path,
    page,
    route_of,
)
from tests.fuzz.seed import CSV_UPLOAD, Seeded
from tests.fuzz.support import (
    HOSTILE_INT_SEGMENTS,
    HOSTILE_STR_SEGMENTS,
    HOSTILE_TEXT,
    ServerErrorLog,
    fuzz_depth,
    rotate,
)

pytestmark = pytest.mark.django_db

COMMON_QUERY_NAMES = [
    "page",
    "page_size",
    "q",
    "search",
    "status",
    "payer",
    "patient",
    "claim_id",
    "denial_code",
    "follow_up",
    "sort",
    "order",
    "ordering",
    "service_date_from",
    "service_date_to",
    "next",
    "format",
]
MAX_DISCOVERY_PAGES = 250
URLS_PER_ROUTE = 2
NOT_FORM_FIELDS = {"csrfmiddlewaretoken"}

# Sent in every query parameter (and every form field) at once, on every page and form: the
# values most likely to get past parsing into a query or a template.
CORE_HOSTILE = [
    (label, value)
    for label, value in HOSTILE_TEXT
    if label in ("NUL byte", "lone surrogate", "huge integer", "far future date", "3000 chars", "NaN", "negative")
]

# In the Django admin (its pages are many and alike): a NUL byte, and nothing at all.
ADMIN_CORE_HOSTILE = [(label, value) for label, value in HOSTILE_TEXT if label in ("NUL byte", "empty")]

HOSTILE_FILES: list[tuple[str, str, bytes]] = [
    ("empty file", "empty.csv", b""),
    ("NUL bytes", "nul.csv", b"Claim #,DOS\n\x00\x00\x00,\x00\n" * 100),
    ("5000-char name", "x" * 5000 + ".csv", CSV_UPLOAD),
    ("fake xlsx", "export.xlsx", b"PK\x03\x04" + b"\xff" * 2000),
    ("1 MB one line", "wide.csv", b"Claim #," + b"x" * 1_000_000 + b"\n1,2\n"),
    ("lone surrogate name", "\ud800.csv", CSV_UPLOAD),
    ("binary", "image.png", bytes(range(256)) * 40),
]


class Site:
    """What the crawl has learned: each route's real URLs, the forms found and query names in links."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self.by_route = {route.route: route for route in routes}
        self.urls: dict[Route, list[str]] = defaultdict(list)
        self.pages: dict[Route, str] = {}  # a URL of the route that answered 200 (not a redirect)
        self.forms: dict[tuple, Form] = {}
        self.query_names: dict[Route, set[str]] = defaultdict(set)

    def route(self, path: str) -> Route | None:
        return self.by_route.get(route_of(path) or "")

    def learn(self, url: str, html: str) -> list[str]:
        """Record the page's forms and query names; return the local links to follow."""
        parser = PageParser(url)
        parser.feed(html)
        links = []
        for link in parser.links:
            path = local_path(urljoin(url, link))
            if path is None:
                continue
            links.append(path)
            route = self.route(path)
            if route is not None:
                self.query_names[route].update(name for name, _ in parse_qsl(urlsplit(path).query))
        for form in parser.forms:
            form.action = local_path(urljoin(url, form.action)) or url
            route = self.route(form.action)
            # One form per route and set of fields: the same form about another row adds little.
            method, _action, fields = form.signature()
            self.forms.setdefault((route.route if route else form.action, method, fields), form)
            if route is not None and form.method == "GET":
                self.query_names[route].update(f.name for f in form.fields)
        return links


def explore(crawler: Crawler, site: Site, start: list[str], *, admin_site: bool) -> None:
    """Breadth-first over links from ``start``: the Django admin's pages, or every other page."""
    queue, seen, pages = deque(start), set(), 0
    while queue and pages < MAX_DISCOVERY_PAGES:
        url = queue.popleft()
        route = site.route(url)
        if url in seen or route is None or route.is_admin != admin_site:
            continue
        seen.add(url)
        if len(site.urls[route]) >= URLS_PER_ROUTE:
            continue
        response = crawler.send("GET", url, detail="discovery")
        pages += 1
        if response is None or response.status_code >= 400:
            continue
        site.urls[route].append(url)
        if response.status_code == 200:
            site.pages.setdefault(route, url)
        if response.status_code in (301, 302, 303, 307, 308):
            target = local_path(urljoin(url, response["Location"]))
            if target:
                queue.append(target)
        if (html := page(response)) is not None:
            queue.extend(site.learn(url, html))


def row_ids(seeded: Seeded) -> list[int]:
    """Candidates for a route's id: the first two rows of the seeded practice, of every model."""
    ids: list[int] = []
    for model in apps.get_models():
        lookup = getattr(model, "practice_path", None) or (
            "practice" if any(f.name == "practice" for f in model._meta.get_fields()) else None
        )
        if lookup is None:
            continue
        rows = model.objects.filter(**{lookup: seeded.practice}).order_by("pk").values_list("pk", flat=True)[:2]
        ids.extend(pk for pk in rows if isinstance(pk, int) and pk not in ids)
    return ids


def fill_by_ids(crawler: Crawler, site: Site, ids: list[int], *, admin_site: bool) -> None:
    """Routes no link reached: their parameters filled with a seeded row's id (``json`` for a format),
    the first id that does not 404 (a route whose parameters take no id stays for the hostile phases)."""
    for route in site.routes:
        if route.is_admin != admin_site or site.urls[route] or not route.params:
            continue
        for pk in ids:
            url = route.url({name: "json" if name == "format" else str(pk) for name in route.params})
            if url is None:
                break
            response = crawler.send("GET", url, detail="id probe")
            if response is None or response.status_code in (401, 403, 405):
                break  # not a matter of which id
            if response.status_code < 400:
                site.urls[route].append(url)
                if response.status_code == 200:
                    site.pages.setdefault(route, url)
                if (html := page(response)) is not None:
                    site.learn(url, html)
                break


def known_url(site: Site, route: Route) -> str | None:
    if site.urls[route]:
        return site.urls[route][0]
    return route.url({}) if not route.params else None


# --------------------------------------------------------------------------------------------
# The hostile phases


class Picker:
    """Which hostile values a parameter or field gets: ``count`` of them, starting at a place fixed by
    its route and name, so every run sends the same values to the same field whatever order pages
    were found in, and different fields get different values."""

    def __init__(self, count: int) -> None:
        self.count = count

    def take(self, values: list, key: str, *, nul: bool = True) -> list:
        picked = rotate(values, zlib.crc32(key.encode()), self.count)
        if not nul:
            return picked
        # And a NUL byte: the commonest way for text to get past validation and fail in PostgreSQL.
        return picked + [value for value in values if value[0] == "NUL byte" and value not in picked]


def hostile_paths(crawler: Crawler, site: Site, picker: Picker, *, admin_site: bool) -> None:
    for route in site.routes:
        if route.is_admin != admin_site or not route.params:
            continue
        base_url = known_url(site, route)
        base = {name: str(value) for name, value in resolve(urlsplit(base_url).path).kwargs.items()} if base_url else {}
        base = {name: base.get(name, "1") for name in route.params}
        for name in route.params:
            if name in route.int_params:
                values = HOSTILE_INT_SEGMENTS  # few, and most of them a converter refuses
            else:
                values = picker.take(HOSTILE_STR_SEGMENTS, f"{route.route}|{name}")
            for index, (label, value) in enumerate(values):
                url = route.url({**base, name: value})
                if url is None:
                    continue  # the converter refuses it: Django answers 404 before any view runs
                crawler.send("GET", url, detail=f"path {name}={label}")
                if index == 0 and not admin_site:
                    crawler.send("POST", url, detail=f"path {name}={label}, empty POST")


ADMIN_QUERY_NAMES = ["q", "o", "p", "e", "all", "_facets", "_changelist_filters", "_popup", "_to_field"]


def hostile_queries(crawler: Crawler, site: Site, picker: Picker, *, admin_site: bool) -> None:
    """Each page that answered 200, with ``HX-Request``; then each query name its links and forms use,
    hostile in turn (and, outside the admin, each common name); then every name at once."""
    for route, url in site.pages.items():
        if route.is_admin != admin_site:
            continue
        path = urlsplit(url).path
        crawler.send("GET", url, htmx=True, detail="HX-Request")
        found = site.query_names[route]
        common = set(ADMIN_QUERY_NAMES if admin_site else COMMON_QUERY_NAMES)
        for name in sorted(found | (set() if admin_site else common)):
            values = picker.take(HOSTILE_TEXT, f"{route.route}|{name}", nul=name in found)
            for label, value in values:
                crawler.send("GET", f"{path}?{encode_query([(name, value)])}", detail=f"query {name}={label}")
        names = sorted(found | common)
        for index, (label, value) in enumerate(ADMIN_CORE_HOSTILE if admin_site else CORE_HOSTILE):
            everything = encode_query([(name, value) for name in names])
            crawler.send("GET", f"{path}?{everything}", htmx=index % 2 == 0, detail=f"every query name={label}")


HOSTILE_HEADERS = {
    "HX-Request": "true",
    "HX-Current-URL": "http://\x7f" + "x" * 3000,
    "HX-Target": "x" * 3000,
    "HX-Trigger": "\x00",
    "HX-History-Restore-Request": "maybe",
    "X-Request-ID": "\x00" + "x" * 3000,
    "X-Forwarded-For": "not-an-address, 999.999.999.999",
    "Accept": "*/*;q=NaN, text/html;q=-1",
    "Accept-Language": "x" * 3000,
    "Referer": "javascript:alert(1)",
}


def other_methods(crawler: Crawler, site: Site, *, admin_site: bool) -> None:
    """Each page with hostile headers, and with methods its forms do not use (PUT, DELETE, OPTIONS)."""
    for route, url in site.pages.items():
        if route.is_admin != admin_site:
            continue
        crawler.send("GET", url, headers=HOSTILE_HEADERS, detail="hostile headers")
        # PATCH goes where PUT goes and HEAD where GET goes; the admin's views are Django's own.
        for method in ("OPTIONS",) if admin_site else ("PUT", "DELETE", "OPTIONS"):
            crawler.send(method, url, detail=f"{method} with an empty body")


def normal_value(field: FormField) -> str | None:
    """What a person filling the form in would plausibly send."""
    if field.kind in ("checkbox", "radio"):
        return field.value
    if field.kind == "select":
        return field.value if field.value else next((o for o in field.options if o), field.value)
    if field.value:
        return field.value
    name = field.name.lower()
    for hint, value in [
        ("email", "fuzz.new@example.com"),
        ("password", PASSWORD),
        ("npi", "1234567893"),
        ("phone", "+18005550100"),
        ("zip", "60601"),
        ("state", "IL"),
        ("date", "2026-01-15"),
        ("url", "https://example.com"),
    ]:
        if hint in name or hint == field.kind:
            return value
    defaults = {"number": "1", "time": "09:00", "datetime-local": "2026-01-15T10:00", "month": "2026-01"}
    return defaults.get(field.kind, "Fuzz value")


def submit(crawler: Crawler, form: Form, pairs: list, files: list, detail: str, *, htmx: bool = False) -> None:
    if form.method == "GET":
        path = urlsplit(form.action).path
        crawler.send("GET", f"{path}?{encode_query(pairs)}", htmx=htmx, detail=detail)
    elif files or form.enctype.startswith("multipart"):
        body, content_type = encode_multipart(pairs, files)
        crawler.send(form.method, form.action, body=body, content_type=content_type, htmx=htmx, detail=detail)
    else:
        body = encode_query(pairs).encode()
        crawler.send(form.method, form.action, body=body, htmx=htmx, detail=detail)


def hostile_forms(crawler: Crawler, site: Site, picker: Picker, *, everything: bool) -> None:
    """Each form: normal values, each field hostile in turn, every field missing (and each, if ``everything``)."""
    for form in site.forms.values():
        if site.route(form.action) is None:
            continue
        fields = [f for f in form.fields if f.name not in NOT_FORM_FIELDS]
        normal = [(f.name, normal_value(f)) for f in fields if f.kind != "file" and normal_value(f) is not None]
        normal_files = [(f.name, "ar-export.csv", CSV_UPLOAD) for f in fields if f.kind == "file"]
        where = f"form {form.method} {urlsplit(form.action).path}"
        key = f"{form.method}|{site.route(form.action).route}"
        submit(crawler, form, normal, normal_files, f"{where}, normal values")
        submit(crawler, form, normal, normal_files, f"{where}, normal values", htmx=True)
        for index, field in enumerate(fields):
            others = [(n, v) for n, v in normal if n != field.name]
            if field.kind == "file":
                other_files = [f for f in normal_files if f[0] != field.name]
                for label, name, content in picker.take(HOSTILE_FILES, f"{key}|{field.name}"):
                    files = [*other_files, (field.name, name, content)]
                    submit(crawler, form, others, files, f"{where}, file {field.name}={label}")
                continue
            for label, value in picker.take(HOSTILE_TEXT, f"{key}|{field.name}"):
                submit(
                    crawler,
                    form,
                    [*others, (field.name, value)],
                    normal_files,
                    f"{where}, {field.name}={label}",
                    htmx=index % 2 == 1,
                )
            if everything:
                submit(crawler, form, others, normal_files, f"{where}, {field.name} missing")
        for label, value in CORE_HOSTILE:
            submit(crawler, form, [(name, value) for name, _ in normal], normal_files, f"{where}, every field={label}")
        repeated = [(name, [value, "-1"]) for name, value in normal]
        submit(crawler, form, repeated, normal_files, f"{where}, every field twice")
        submit(crawler, form, [], [], f"{where}, every field missing")


def crawl_as(
    crawler: Crawler, site: Site, seeded: Seeded, picker: Picker, *, admin_site: bool, forms: bool, start=()
) -> None:
    plain = [route.url({}) for route in site.routes if not route.params and route.is_admin == admin_site]
    explore(crawler, site, [*[u for u in plain if u], *start], admin_site=admin_site)
    fill_by_ids(crawler, site, row_ids(seeded), admin_site=admin_site)
    hostile_paths(crawler, site, picker, admin_site=admin_site)
    hostile_queries(crawler, site, picker, admin_site=admin_site)
    other_methods(crawler, site, admin_site=admin_site)
    if forms:
        hostile_forms(crawler, site, picker, everything=picker.count > 1)


def test_it_answers_every_route_and_form_without_a_server_error(seeded: Seeded, server_errors: ServerErrorLog):
    started = time.monotonic()
    routes = all_routes()
    picker = Picker(fuzz_depth() or 1)
    operator = UserFactory(email="operator@fuzz.example", practice=None, is_staff=True, is_superuser=True)
    crawlers = {
        "practice admin": Crawler("practice admin", lambda c: c.force_login(seeded.admin), server_errors),
        "staff": Crawler("staff", lambda c: c.force_login(seeded.staff), server_errors),
        "signed out": Crawler("signed out", None, server_errors),
        "operator": Crawler("operator", lambda c: c.force_login(operator), server_errors),
    }
    sites = {who: Site(routes) for who in crawlers}

    crawl_as(crawlers["practice admin"], sites["practice admin"], seeded, picker, admin_site=False, forms=True)
    # A real password-reset link, as the reset email would give it, so its form gets crawled too.
    reset_link = reverse(
        "password_reset_confirm",
        args=[urlsafe_base64_encode(force_bytes(seeded.staff.pk)), default_token_generator.make_token(seeded.staff)],
    )
    crawl_as(
        crawlers["signed out"], sites["signed out"], seeded, picker, admin_site=False, forms=True, start=[reset_link]
    )
    crawl_as(crawlers["operator"], sites["operator"], seeded, picker, admin_site=True, forms=False)
    # Staff see the admin's pages (where they are allowed to) and submit the forms they are shown.
    staff, staff_site = crawlers["staff"], sites["staff"]
    for urls in sites["practice admin"].urls.values():
        for url in urls[:1]:
            staff.send("GET", url, detail="staff")
            staff.send("GET", url, htmx=True, detail="staff, HX-Request")
            response = staff.send("GET", url, detail="staff, forms")
            if (html := page(response)) is not None and response.status_code == 200:
                staff_site.learn(url, html)
    for form in staff_site.forms.values():
        fields = [f for f in form.fields if f.name not in NOT_FORM_FIELDS and f.kind != "file"]
        pairs = [(f.name, normal_value(f)) for f in fields if normal_value(f) is not None]
        submit(staff, form, pairs, [], f"staff form {form.method} {urlsplit(form.action).path}")

    admin_site = sites["practice admin"]
    reached = sum(1 for route in routes if admin_site.urls[route] or sites["operator"].urls[route])
    sent = sum(crawler.sent for crawler in crawlers.values())
    failures = [failure for crawler in crawlers.values() for failure in crawler.failures]
    summary = (
        f"{len(routes)} routes ({reached} reached with a real URL), {len(admin_site.forms)} forms, "
        f"{sent} requests in {time.monotonic() - started:.0f} s"
    )
    assert len(admin_site.forms) >= 10, f"the crawl found too few forms to be testing anything: {summary}"
    if failures:
        pytest.fail(_report(failures, summary), pytrace=False)


def _report(failures: list, summary: str) -> str:
    """Failures grouped by cause (exception and innermost frame), each with the routes it hit and examples."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for failure in failures:
        groups[failure.cause()].append(failure)
    lines = [f"{len(failures)} requests answered 5xx, from {len(groups)} distinct cause(s) ({summary}):"]
    for (exception, frame), members in sorted(groups.items(), key=lambda item: -len(item[1])):
        where = sorted({f"{m.method} {_pattern(m.url)}" for m in members})
        lines.append(f"\n* {exception} at {frame or '?'}: {len(members)} request(s) to {len(where)} route(s):")
        lines.extend(f"    {route}" for route in where[:30])
        lines.append("  e.g.:")
        lines.extend(member.describe() for member in members[:3])
    return "\n".join(lines)


def _pattern(url: str) -> str:
    route = route_of(url)
    return f"/{route}" if route is not None else urlsplit(url).path[:80]
