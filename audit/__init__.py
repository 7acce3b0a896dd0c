"""The audit trail: who saw or changed what, chained per practice so tampering shows.

``audit.record(...)`` is the one public way for other code to add an entry (see
``audit.services.record`` for its arguments).
"""

from __future__ import annotations

from typing import Any


def record(action: str, **kwargs: Any) -> Any:
    """Add an entry to the audit trail; the arguments are ``audit.services.record``'s."""
    from audit.services import record as _record

    return _record(action, **kwargs)
