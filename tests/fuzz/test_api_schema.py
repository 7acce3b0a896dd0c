"""Every operation of the JSON API, fuzzed from the OpenAPI schema the app serves.

The schema is read from ``/api/schema/`` as a practice admin, so an operation added to the API
is fuzzed without anyone listing it here. For each operation the test sends

* schemathesis's coverage cases (boundary and wrong-type values for each parameter and body
  field, deterministic), a bounded number of them, and
* hypothesis examples, valid and invalid, with path ids drawn both from the schema and from
  real rows of the seeded practice (and of another practice, which must answer 404),

in-process through Django's WSGI handler, authenticated with a DRF token. Each example runs
in a savepoint that is rolled back, so examples never see each other's rows and the results
do not depend on their order. Checks: no 5xx, and a response with a documented status code
matches its documented schema. Every failure is collected and reported at the end.

Bounded and repeatable: hypothesis is derandomized with no example database and no
shrinking; ``FUZZ_EXAMPLES`` raises the examples per operation for a deeper local run.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Err
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import response_schema_conformance

from clinical.models import SealedNoteError
from tests.fuzz.seed import Seeded
from tests.fuzz.support import HUGE, NESTED, DjangoTestApp, ServerErrorLog, fuzz_depth, report, rolled_back

pytestmark = pytest.mark.django_db

DEFAULT_EXAMPLES = 25  # hypothesis examples per operation in the quick run
DEFAULT_COVERAGE_CASES = 40  # coverage-phase cases per operation in the quick run (evenly spread over all)
CHECKS = [not_a_server_error, response_schema_conformance]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def _hypothesis_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # A failure is recorded, never raised, so there is nothing to shrink or explain.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


@dataclass
class Findings:
    failures: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    sent: int = 0
    succeeded: set[str] = field(default_factory=set)  # operations that answered 2xx at least once

    def add(self, operation: str, title: str, example: str) -> None:
        # Keyed by the title's first clause: the same violation with another value is the same cause.
        examples = self.failures.setdefault((operation, title.split(": ", 1)[0]), [])
        examples.append(f"{title}\n      e.g. {example}")

    def describe(self) -> str:
        lines = []
        for (operation, _cause), examples in sorted(self.failures.items()):
            lines.append(f"\n* {operation} ({len(examples)} example(s)): {examples[0]}")
        return "".join(lines)


def _load_schema(app: DjangoTestApp, headers: dict[str, str]):
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=headers, config=config)


def _model_behind(path_template: str) -> type[models.Model] | None:
    """The model a ``{id}`` in ``path_template`` names, asked of the URL's DRF view."""
    try:
        match = resolve(path_template.replace("{id}", "1"))
    except Resolver404:
        return None
    view = getattr(match.func, "cls", None)
    queryset = getattr(view, "queryset", None)
    return queryset.model if queryset is not None else None


def _ids_for(path_template: str, seeded: Seeded) -> tuple[list[int], list[int]]:
    """Ids of real rows for the operation's ``{id}``: the seeded practice's, and another practice's."""
    model = _model_behind(path_template)
    if model is None:
        return [], []
    lookup = getattr(model, "practice_path", "practice")
    rows = model.objects.order_by("pk").values_list("pk", flat=True)
    ours = list(rows.filter(**{lookup: seeded.practice})[:5])
    theirs = list(rows.filter(**{lookup: seeded.other_practice})[:1])
    return ours, theirs


def _coverage_cases(schema, operation, limit: int | None) -> list:
    """Schemathesis's coverage cases for ``operation``: all of them, or ``limit`` spread evenly over them."""
    cases = list(
        schema.iter_coverage_cases(
            operation,
            generation_modes=MODES,
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        )
    )
    if limit is None or len(cases) <= limit:
        return cases
    return [cases[i * len(cases) // limit] for i in range(limit)]


def _related_ids(seeded: Seeded) -> dict[str, list[int]]:
    """For each foreign key name used by the project's models (``patient``, ``payer``, ``claim``...),
    the ids of the seeded practice's rows it can point to."""
    related: dict[str, list[int]] = {}
    for model in apps.get_models():
        for model_field in model._meta.get_fields():
            if not isinstance(model_field, models.ForeignKey):
                continue
            target = model_field.related_model
            if not any(f.name == "practice" for f in target._meta.get_fields()):
                continue
            ids = list(target.objects.filter(practice=seeded.practice).order_by("pk").values_list("pk", flat=True)[:5])
            if ids:
                related.setdefault(model_field.name, ids)
                related.setdefault(f"{model_field.name}_id", ids)
    return related


def _use_real_rows(case, ids: list[int], related: dict[str, list[int]], index: int) -> None:
    """Point a case at real rows, deterministically: the ``{id}`` of a case that varies something
    else than the path, and integer foreign keys in the body and query (``n`` becomes the n-th row)."""
    meta = case.meta
    varies_path = meta is not None and getattr(meta.phase.data, "parameter_location", None) == ParameterLocation.PATH
    if ids and "id" in (case.path_parameters or {}) and not varies_path:
        case.path_parameters["id"] = ids[index % len(ids)]
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        for key, value in container.items():
            if key in related and isinstance(value, int) and not isinstance(value, bool):
                container[key] = related[key][value % len(related[key])]


def _strategy(operation, ids: list[int]):
    strategies = [operation.as_strategy(mode) for mode in MODES]
    if ids and any(parameter.name == "id" for parameter in operation.path_parameters):
        # Draw an index, not an id: ids differ between databases, the choice sequence does not.
        strategies += [
            st.integers(0, len(ids) - 1).flatmap(
                lambda i, mode=mode: operation.as_strategy(mode, path_parameters={"id": ids[i]})
            )
            for mode in MODES
        ]
    return st.one_of(strategies)


def _describe(case, response) -> str:
    sent = [f"{case.method} {case.formatted_path}"]
    if case.query:
        sent.append(f"query={_short(case.query)}")
    if not isinstance(case.body, NotSet):
        sent.append(f"body={_short(case.body)}")
    if case.media_type:
        sent.append(f"as {case.media_type}")
    return " ".join(sent) + f" -> {response.status_code if response is not None else 'no response'}"


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _failure_title(failure: BaseException) -> str:
    """One line per cause: a schema violation by where it is (list indices folded), anything else by its text."""
    if isinstance(failure, JsonSchemaError):
        where = "/".join("*" if isinstance(part, int) else str(part) for part in failure.instance_path) or "(root)"
        keyword = failure.schema_path[-1] if failure.schema_path else "?"
        return f"{failure.title} at {where} ({keyword}): {failure._raw_message}"[:300]
    if isinstance(failure, Failure):
        return f"{failure.title}: {failure.message.splitlines()[0] if failure.message else ''}"[:300]
    return f"{type(failure).__name__}: {failure}"[:300]


def _run(case, app, headers, findings: Findings, operation_label: str, related=None) -> None:
    if related:
        _use_real_rows(case, [], related, 0)
    findings.sent += 1
    response = None
    try:
        with rolled_back():
            response = case.call(app=app, headers=headers)
        if 200 <= response.status_code < 300:
            findings.succeeded.add(operation_label)
        case.validate_response(response, checks=CHECKS, headers=headers)
    except BaseExceptionGroup as group:
        for failure in group.exceptions:
            findings.add(operation_label, _failure_title(failure), _describe(case, response))
    except Exception as error:  # the request could not be sent or its body not read: a failure too
        findings.add(operation_label, _failure_title(error), _describe(case, response))


# JSON no schema-driven generator sends, as JSON text: strings JSON can carry but a database
# cannot (a lone surrogate escape, NUL), and sizes, depths and numbers past any limit.
HOSTILE_JSON: list[tuple[str, str]] = [
    ("lone surrogate", '"abc\\ud800def"'),
    ("NUL", '"abc\\u0000def"'),
    ("3000 chars", json.dumps("y" * 3000)),
    ("1 MB string", json.dumps(HUGE)),
    ("huge integer", "1" + "0" * 30),
    ("4300+ digits", "9" * 5000),
    ("NaN", "NaN"),
    ("Infinity", "-Infinity"),
    ("1e999", "1e999"),
    ("deep list", NESTED),
    ("object", '{"a": [1, {"b": null}]}'),
    ("far date", '"9999-12-31"'),
]
PLACEHOLDER = "__fuzz_hostile_value__"


@dataclass
class RealBody:
    """A valid JSON body made from a real row: the row as the API shows it, cut to the request's fields."""

    body: dict | list
    row: models.QuerySet | None  # for a create: the row to delete first, so its unique values are free


def _real_body(client, schema, operation, ours: list[int], headers: dict) -> RealBody | None:
    """For an operation on ``/x`` or ``/x/{id}`` where ``GET /x/{id}`` exists: a real row (the last seeded
    one for a create, the first otherwise) as that GET shows it, cut to the request body's properties."""
    collection = operation.path.removesuffix("/{id}")
    detail = f"{collection}/{{id}}"
    raw = schema.raw_schema
    if not ours or "get" not in raw["paths"].get(detail, {}) or operation.path not in (collection, detail):
        return None
    many, properties = _request_shape(raw, raw["paths"][operation.path][operation.method.lower()])
    if not properties:
        return None
    creating = operation.path == collection
    pk = ours[-1] if creating else ours[0]
    response = client.get(detail.replace("{id}", str(pk)), headers=headers)
    if response.status_code != 200:
        return None
    body = {key: value for key, value in response.json().items() if key in properties}
    model = _model_behind(detail)
    row = model.objects.filter(pk=pk) if creating and model is not None else None
    return RealBody([body] if many else body, row)


def _request_shape(raw: dict, definition: dict) -> tuple[bool, set[str]]:
    """Whether the JSON request body is a list, and the writable properties of its objects."""

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = raw["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    body = resolve(definition.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}))
    many = body.get("type") == "array"
    if many:
        body = resolve(body.get("items", {}))
    return many, {name for name, spec in body.get("properties", {}).items() if not resolve(spec).get("readOnly")}


def _hostile_json_bodies(
    client, operation, real: RealBody | None, cases: list, ours: list[int], headers: dict, findings: Findings, *, depth
) -> None:
    """A valid JSON body (a real row's, else the first valid coverage case's) sent as it is, then with
    each property in turn made hostile: a lone surrogate always, and one more value chosen by the
    property's name (every value when ``FUZZ_EXAMPLES`` is set)."""
    label = f"{operation.method.upper()} {operation.path}"
    valid = next(
        (
            case
            for case in cases
            if isinstance(case.body, dict)
            and case.body
            and (case.media_type or "").endswith("json")
            and case.meta is not None
            and case.meta.generation.mode == GenerationMode.POSITIVE
        ),
        None,
    )
    if real is None and valid is None:
        return
    base = real.body if real is not None else valid.body
    path = operation.path.replace("{id}", str(ours[0])) if ours else (valid.formatted_path if valid else None)
    if path is None or "{" in path:
        return
    method = operation.method.upper()

    def send(body: object, what: str, hostile: str = "") -> None:
        """``body`` as JSON, its ``PLACEHOLDER`` string replaced by the JSON text ``hostile``."""
        findings.sent += 1
        text = json.dumps(body).replace(f'"{PLACEHOLDER}"', hostile)
        with rolled_back():
            if real is not None and real.row is not None:
                _delete(real.row)
            response = client.generic(method, path, text.encode(), content_type="application/json", headers=headers)
        if 200 <= response.status_code < 300:
            findings.succeeded.add(label)
        if response.status_code >= 500:
            findings.add(label, f"Server error: {response.status_code} for {what}", f"{method} {path}")

    send(base, "a valid body")
    item = base[0] if isinstance(base, list) else base
    for key in sorted(item):
        if depth:
            values = HOSTILE_JSON
        else:
            start = zlib.crc32(f"{label}|{key}".encode()) % (len(HOSTILE_JSON) - 1)
            values = [HOSTILE_JSON[0], HOSTILE_JSON[1 + start]]
        for what, value in values:
            mutated = {**item, key: PLACEHOLDER}
            send([mutated] if isinstance(base, list) else mutated, f"{key}={what}", value)


def _delete(row: models.QuerySet) -> None:
    """Delete ``row`` if nothing protects it (inside the example's savepoint: it comes back after).
    A signed clinical note is never deleted."""
    try:
        with transaction.atomic():
            row.delete()
    except (ProtectedError, RestrictedError, IntegrityError, SealedNoteError):
        pass


def _fuzz(operation, ids: list[int], examples: int, run) -> None:
    @_hypothesis_settings(examples)
    @given(case=_strategy(operation, ids))
    def fuzz(case):
        run(case)

    fuzz()


def test_it_answers_every_operation_without_a_server_error_and_as_documented(seeded, server_errors: ServerErrorLog):
    depth = fuzz_depth()
    examples = depth or DEFAULT_EXAMPLES
    coverage_cases = None if depth else DEFAULT_COVERAGE_CASES
    app = DjangoTestApp()
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Token {Token.objects.create(user=seeded.admin).key}"}
    schema = _load_schema(app, headers)
    findings = Findings()
    related = _related_ids(seeded)
    operations = []
    started = time.monotonic()

    for result in schema.get_all_operations():
        if isinstance(result, Err):
            error = result.err()
            findings.add(f"{error.method} {error.path}", f"schema error: {error}", "(operation not fuzzed)")
            continue
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        operations.append(label)
        ours, theirs = _ids_for(operation.path, seeded)

        cases = _coverage_cases(schema, operation, coverage_cases)
        for index, case in enumerate(cases):
            _use_real_rows(case, ours, related, index)
            _run(case, app, headers, findings, label)
        real = _real_body(client, schema, operation, ours, headers)
        _hostile_json_bodies(client, operation, real, cases, ours, headers, findings, depth=depth)

        _fuzz(
            operation,
            ours + theirs,
            examples,
            lambda case, label=label: _run(case, app, headers, findings, label, related),
        )

    assert len(operations) >= 40, f"the served schema has only {len(operations)} operations: {operations}"
    # Authentication and the seeded rows work: nearly every operation succeeded with some input.
    never = sorted(set(operations) - findings.succeeded)
    assert len(never) <= len(operations) // 10, f"operations that never answered 2xx: {never}"
    if findings.failures:
        pytest.fail(
            f"{len(findings.failures)} failing check(s) over {len(operations)} operations "
            f"({findings.sent} requests, {time.monotonic() - started:.0f} s):{findings.describe()}\n\n"
            + report(server_errors.take(), "Exceptions behind the 5xx answers"),
            pytrace=False,
        )
