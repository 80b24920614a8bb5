"""One guard for the optional `temporal` extra, so every entry point fails the same clear way."""

from __future__ import annotations

import importlib.util

from agent.errors import ConfigError

INSTALL_HINT = "install the extra: pip install 'subagent-runtime[temporal]'"


def require_temporal() -> None:
    """Raise `ConfigError` saying how to install the extra when temporalio is missing.

    Raises:
        ConfigError: temporalio cannot be imported here.
    """
    if importlib.util.find_spec("temporalio") is None:
        raise ConfigError(
            f"the Temporal executor needs the temporalio SDK, which is not installed; {INSTALL_HINT}"
        )
