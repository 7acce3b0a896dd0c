"""The idle timeout: a signed-in session ends after ``SESSION_IDLE_TIMEOUT_MINUTES`` without its
person doing anything.

What counts as doing something is decided by the middleware (``is_activity``): opening a page,
submitting a form, any other change, or the page's "Stay signed in". Requests a page makes on its
own — htmx polling, a live search refreshing — do not, or an open call page would keep a session
alive forever. The page (static/js/session.js) notices typing and clicking and pings the server
when its person is active but makes no requests.

The last activity lives in the session itself, as a Unix time. It is written at most every
``WRITE_EVERY`` seconds, so most requests cost no session write.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

LAST_ACTIVITY = "security.last_activity"
# A session saw activity at most this long ago when its stored time is this stale; enough to
# spare a write per request, small against a timeout of minutes.
WRITE_EVERY = 30


def timeout_seconds() -> int:
    return settings.SESSION_IDLE_TIMEOUT_MINUTES * 60


def seconds_left(session: SessionBase, now: float | None = None) -> int:
    """Seconds until the session times out; a session with no activity recorded has them all."""
    now = time.time() if now is None else now
    last = session.get(LAST_ACTIVITY)
    if last is None:
        return timeout_seconds()
    return max(0, int(last + timeout_seconds() - now))


def is_expired(session: SessionBase, now: float | None = None) -> bool:
    return LAST_ACTIVITY in session and seconds_left(session, now) <= 0


def record_activity(session: SessionBase, now: float | None = None) -> None:
    now = time.time() if now is None else now
    last = session.get(LAST_ACTIVITY)
    if last is None or now - last >= WRITE_EVERY:
        session[LAST_ACTIVITY] = int(now)
