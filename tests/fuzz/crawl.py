"""The crawler's parts: every route from Django's resolver, pages' links and forms, and a client
that sends hostile requests and writes down every server error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

from tests.fuzz.support import ServerError, ServerErrorLog, rolled_back

# --------------------------------------------------------------------------------------------
# Routes


@dataclass(frozen=True)
class Route:
    """One URL pattern, as Django would reverse it: ``template`` % {param: value}."""

    name: str
    route: str  # as ``ResolverMatch.route`` gives it, which identifies the pattern a URL resolved to
    template: str
    params: tuple[str, ...]
    int_params: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("admin/")

    def url(self, values: dict[str, str]) -> str | None:
        """The URL for ``values``, if it resolves back to this route (a value may not fit its pattern)."""
        path = "/" + self.template % {name: values[name] for name in self.params}
        return path if self.matches(path) else None

    def matches(self, path: str) -> bool:
        return route_of(path) == self.route

    def __str__(self) -> str:
        return "/" + self.template % {name: f"<{name}>" for name in self.params}


def all_routes() -> list[Route]:
    """Every URL pattern reachable from the root URLconf, walking ``get_resolver()`` recursively."""
    routes = []
    for regex, route, converters, pattern, names in _walk(get_resolver(), "", "", {}, []):
        template, params = normalize(regex)[0]
        int_params = frozenset(name for name, conv in converters.items() if _digits_only(conv))
        name = ":".join([*names, pattern.name]) if pattern.name else pattern.lookup_str
        routes.append(Route(name, route, template, tuple(params), int_params))
    return routes


def route_of(path: str) -> str | None:
    """The ``route`` of the pattern ``path`` resolves to, or None."""
    try:
        return resolve(urlsplit(path).path).route
    except (Resolver404, ValueError):
        return None


def _digits_only(converter) -> bool:
    """Whether a converter takes ids: digits match its pattern and letters do not (``int``, or an id converter)."""
    regex = getattr(converter, "regex", "")
    return bool(re.fullmatch(regex, "123")) and not re.fullmatch(regex, "abc")


def _walk(resolver: URLResolver, prefix: str, route: str, converters: dict, namespaces: list[str]) -> Iterator:
    for pattern in resolver.url_patterns:
        regex = prefix + pattern.pattern.regex.pattern.removeprefix("^")
        # Joined as URLResolver.resolve joins them into ResolverMatch.route.
        joined = route + str(pattern.pattern).removeprefix("^") if route else str(pattern.pattern)
        merged = {**converters, **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            names = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
            yield from _walk(pattern, regex, joined, merged, names)
        elif isinstance(pattern, URLPattern):
            yield regex, joined, merged, pattern, namespaces


# --------------------------------------------------------------------------------------------
# Pages: links and forms


@dataclass
class FormField:
    name: str
    kind: str  # an input type, or "select", "textarea"
    value: str | None  # what the browser would send; None: nothing (an unchecked box)
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    method: str
    action: str
    enctype: str
    fields: list[FormField] = field(default_factory=list)

    def signature(self) -> tuple:
        return (self.method, self.action, tuple(sorted({f.name for f in self.fields})))


HX_VERBS = ("hx-post", "hx-put", "hx-patch", "hx-delete", "hx-get")


class PageParser(HTMLParser):
    """Links (``href``, ``hx-get``...) and forms of an HTML page, as a browser would submit them."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for attr in ("href", "hx-get", "src"):
            if a.get(attr):
                self.links.append(a[attr])
        if tag == "form":
            verb = next((v for v in HX_VERBS if a.get(v)), None)
            method = verb.removeprefix("hx-").upper() if verb else a.get("method", "get").upper()
            action = (a.get(verb) if verb else a.get("action")) or self.page_url
            enctype = a.get("hx-encoding") or a.get("enctype") or "application/x-www-form-urlencoded"
            self._form = Form(method=method, action=action, enctype=enctype)
            self.forms.append(self._form)
            return
        if tag != "form" and self._form is None:
            # A button or link that posts by itself (``hx-post`` outside a form), with its ``hx-vals``.
            verb = next((v for v in HX_VERBS[:-1] if a.get(v)), None)
            if verb:
                form = Form(method=verb.removeprefix("hx-").upper(), action=a[verb], enctype="")
                form.fields = [FormField(k, "hidden", str(v)) for k, v in _hx_vals(a.get("hx-vals", "")).items()]
                self.forms.append(form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "reset", "button"):
                return
            if kind in ("checkbox", "radio"):
                value = a.get("value") or "on"
                existing = next((f for f in self._form.fields if f.name == name and f.kind == kind), None)
                if existing is not None:
                    existing.options.append(value)
                    if "checked" in a and existing.value is None:
                        existing.value = value
                    return
                self._form.fields.append(FormField(name, kind, value if "checked" in a else None, [value]))
                return
            self._form.fields.append(FormField(name, kind, a.get("value", "")))
        elif tag == "select" and name:
            self._select = FormField(name, "select", None)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a and self._select.value is None:
                self._select.value = value
        elif tag == "textarea" and name:
            self._textarea = FormField(name, "textarea", "")
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value = (self._textarea.value or "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            if self._select.value is None and self._select.options:
                self._select.value = self._select.options[0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _hx_vals(raw: str) -> dict:
    try:
        value = json.loads(raw) if raw.strip().startswith("{") else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def local_path(url: str) -> str | None:
    """``url`` as a path on this site, or None for another site, a fragment or a script."""
    if not url or url.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    parts = urlsplit(url)
    if (parts.scheme or parts.netloc) and parts.netloc not in ("testserver", "localhost"):
        return None
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------------------------
# Sending


def encode_query(pairs: list[tuple[str, object]]) -> str:
    """A query string or form body; str values may hold NUL bytes and lone surrogates (sent as raw bytes)."""
    out = []
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        for item in values:
            out.append(f"{_quote(name)}={_quote(item)}")
    return "&".join(out)


def _quote(value: object) -> str:
    return quote_from_bytes(str(value).encode("utf-8", "surrogatepass"), safe="")


def encode_multipart(pairs: list[tuple[str, object]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "fuzzboundary7MA4YWxkTrZu0gW"
    chunks = []
    for name, value in pairs:
        for item in value if isinstance(value, list) else [value]:
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + str(item).encode("utf-8", "surrogatepass")
                + b"\r\n"
            )
    for name, filename, content in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
            + filename.encode("utf-8", "surrogatepass")
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + content
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


@dataclass
class Failure:
    who: str
    method: str
    url: str
    detail: str
    status: int
    error: ServerError | None

    def cause(self) -> tuple[str, str]:
        if self.error is None:
            return f"HTTP {self.status} (no exception)", ""
        return self.error.cause()

    def describe(self) -> str:
        url = self.url if len(self.url) <= 160 else self.url[:160] + "…"
        head = f"  [{self.who}] {self.method} {url} ({self.detail}) -> {self.status}"
        if self.error is None:
            return head
        message = self.error.message if len(self.error.message) <= 240 else self.error.message[:240] + "…"
        frames = "\n".join(f"        {frame}" for frame in self.error.frames[:4]) or "        (no frame)"
        return f"{head}\n      {self.error.exception}: {message}\n{frames}"


class Crawler:
    """Sends requests as one persona, each POST in a rolled-back savepoint, and keeps every server error."""

    def __init__(self, who: str, login: Callable[[Client], None] | None, errors: ServerErrorLog) -> None:
        self.who = who
        self.login = login
        self.errors = errors
        self.client = Client(raise_request_exception=False)
        self.failures: list[Failure] = []
        self.sent = 0
        self._session = ""
        if login:
            login(self.client)
            self._session = self.client.cookies[settings.SESSION_COOKIE_NAME].value

    def send(
        self,
        method: str,
        url: str,
        *,
        body: bytes = b"",
        content_type: str = "application/x-www-form-urlencoded",
        htmx: bool = False,
        headers: dict[str, str] | None = None,
        detail: str = "",
    ):
        headers = {**({"HX-Request": "true"} if htmx else {}), **(headers or {})}
        self.sent += 1
        self.errors.take()
        with rolled_back():
            try:
                if method == "GET":
                    response = self.client.get(url, headers=headers)
                else:
                    response = self.client.generic(method, url, body, content_type=content_type, headers=headers)
                if response.streaming:
                    response.getvalue()  # an error while streaming is an error too
            except Exception as exc:  # noqa: BLE001 - raised while reading a streamed body
                self._failed(method, url, detail, 500, exc)
                response = None
        self._stay_logged_in()
        if response is None:
            return None
        if response.status_code >= 500:
            errors = self.errors.take()
            self.failures.append(Failure(self.who, method, url, detail, response.status_code, (errors or [None])[0]))
        return response

    def _failed(self, method: str, url: str, detail: str, status: int, exc: Exception) -> None:
        from tests.fuzz.support import app_frames

        error = ServerError(
            method=method,
            path=url,
            status=status,
            exception=type(exc).__qualname__,
            message=str(exc),
            frames=app_frames(exc.__traceback__),
        )
        self.failures.append(Failure(self.who, method, url, detail, status, error))

    def _stay_logged_in(self) -> None:
        """Undo what a request did to this persona outside the database (the savepoint took care of the rest):
        a logout, a password change or a sign-in cycles the session, whose new row was rolled back."""
        if settings.REDIS_URL:
            cache.clear()  # rate-limit slots: each submission starts from none taken
        if self.login is None:
            self.client.cookies.clear()
            return
        cookie = self.client.cookies.get(settings.SESSION_COOKIE_NAME)
        if cookie is None or cookie.value != self._session:
            self.login(self.client)
            self._session = self.client.cookies[settings.SESSION_COOKIE_NAME].value


def page(response) -> str | None:
    """The response's HTML, or None if it is not an HTML page."""
    if response is None or response.streaming or "html" not in response.get("Content-Type", ""):
        return None
    return response.content.decode(response.charset or "utf-8", "replace")


INT_RE = re.compile(r"^\d+$")
