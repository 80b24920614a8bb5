"""The environment bash sees: an allowlist, minus anything whose name says it is a secret."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED_NAMES: frozenset[str] = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TERM", "USER", "LOGNAME", "SHELL", "TZ", "COLORTERM", "NO_COLOR"}
)
"""Passed through when set; `LC_*` too. Everything else must be named in the config."""

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True for names that must never reach a command, even when the config allows them."""
    return name.upper().startswith("ANTHROPIC_") or bool(_SECRET_NAME.search(name))


def scrub_env(
    source: Mapping[str, str], *, extra: Iterable[str] = (), home: str | None = None
) -> dict[str, str]:
    """The allowlisted part of `source`, with HOME replaced when the sandbox has its own.

    Args:
        source: the runtime's environment (usually `os.environ`).
        extra: more names the project allows (agents.yaml `sandbox.env`).
        home: the HOME the command should see.
    """
    allowed = ALLOWED_NAMES | frozenset(extra)
    env = {
        name: value
        for name, value in source.items()
        if (name in allowed or name.startswith("LC_")) and not is_secret_name(name)
    }
    if home is not None:
        env["HOME"] = home
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["SHELL"] = "/bin/bash"
    return env
