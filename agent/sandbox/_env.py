"""The environment bash sees: an allowlist, minus anything whose name says it is a secret."""

from __future__ import annotations

import functools
import os
import re
import subprocess
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


_IDENTITY = {
    "user.name": ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"),
    "user.email": ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"),
}


@functools.cache
def _configured_identity(home: str) -> tuple[tuple[str, str], ...]:
    """user.name and user.email from the user's global git config, read without includes."""
    found = []
    env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1"}
    if "XDG_CONFIG_HOME" in os.environ:
        env["XDG_CONFIG_HOME"] = os.environ["XDG_CONFIG_HOME"]
    for key in _IDENTITY:
        try:
            done = subprocess.run(
                ["git", "config", "--global", "--no-includes", "--get", key],
                capture_output=True,
                text=True,
                timeout=10,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip():
            found.append((key, done.stdout.strip()))
    return tuple(found)


def git_identity(source: Mapping[str, str], home: str) -> dict[str, str]:
    """Who commits inside the sandbox, where the user's git config is hidden.

    The runtime's own `GIT_AUTHOR_*` / `GIT_COMMITTER_*` when set, else the user's `user.name`
    and `user.email` from their global git config: a name and an address, nothing else of it.
    """
    env = {name: source[name] for names in _IDENTITY.values() for name in names if source.get(name)}
    for key, value in _configured_identity(home):
        for name in _IDENTITY[key]:
            env.setdefault(name, value)
    return env
