"""The safety checks a production deployment must pass before it serves anything."""

from __future__ import annotations


def production_problems(
    *, debug: bool, secret_key: str, default_secret_key: str, allowed_hosts: list[str]
) -> list[str]:
    """Return one plain sentence per insecure setting; an empty list means safe."""
    problems = []
    if debug:
        problems.append("DEBUG is on. Unset DEBUG or set DEBUG=false.")
    if not secret_key or secret_key == default_secret_key:
        problems.append("SECRET_KEY is missing or is the development key. Set a long random SECRET_KEY.")
    elif len(secret_key) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters. Use a long random value.")
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS is empty. List the host names the app is served on, comma separated.")
    return problems
