"""Where ``manage.py runserver`` listens, read from the command line before Django starts.

Debug pages show code, settings and patient data to whoever receives them, so settings turn
them on by default only for the development server listening on this machine alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

# runserver's options that take a separate value ("-v 2", "--settings x").
_VALUE_OPTIONS = {"-v", "--verbosity", "--settings", "--pythonpath"}


def runserver_host(argv: Sequence[str]) -> str | None:
    """The address ``runserver`` binds, or None when this process is not ``runserver``.

    ``manage.py runserver`` binds 127.0.0.1 (``::1`` with ``-6``) unless given an address,
    as in ``0.0.0.0:8000``, ``[::]:8000``, ``0:8000`` (all addresses) or ``8000`` (port only).
    """
    if len(argv) < 2 or argv[1] != "runserver":
        return None
    args = iter(argv[2:])
    for arg in args:
        if arg in _VALUE_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            if arg.isdigit():
                break
            host = arg.rpartition(":")[0] if ":" in arg else arg
            return host.removeprefix("[").removesuffix("]")
    return "::1" if {"-6", "--ipv6"} & set(argv) else "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach; False for any other, and for names."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
