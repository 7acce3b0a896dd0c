"""Strict JSON for everything that reads JSON from outside: the API's parser and the webhook.

Python's ``json`` module accepts more than JSON and less than a server can survive:
``NaN`` and ``Infinity`` tokens, ``1e400`` read as infinity, strings holding lone surrogates
(``"\\ud800"``) that no database can store, and nesting deep enough to exhaust the
interpreter's stack. ``loads`` refuses all of these with a ``StrictJSONError`` whose message
says what was wrong, so callers answer 400 with a reason instead of failing later.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Deeper than any document the API or Vapi sends (Vapi's end-of-call report nests about 8).
MAX_DEPTH = 32


class StrictJSONError(ValueError):
    """Why a text is refused; for text that is not JSON at all, where (``line``, ``column``)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def _refuse_constant(name: str) -> None:
    raise StrictJSONError(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"The number {text[:40]} is too large.")
    return value


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` as strict JSON, or raise ``StrictJSONError`` saying why it is refused."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except StrictJSONError:
        raise
    except RecursionError:
        raise StrictJSONError(f"The JSON is nested more than {max_depth} levels deep.") from None
    except json.JSONDecodeError as error:
        raise StrictJSONError(
            f"This is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            line=error.lineno,
            column=error.colno,
        ) from None
    except (ValueError, TypeError):
        raise StrictJSONError("This is not valid JSON.") from None
    check(value, max_depth=max_depth)
    return value


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting beyond ``max_depth`` and text that cannot be stored (lone surrogates).

    Iterative, so a document that ``json`` could parse cannot exhaust the stack here.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise StrictJSONError(f"The JSON is nested more than {max_depth} levels deep.")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str) and not _encodable(item):
            raise StrictJSONError("The JSON holds text with an invalid character (a lone surrogate).")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
