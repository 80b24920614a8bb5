"""Is there an API key? Checked once, the same way, by the CLI (before a run) and by the runtime."""

from __future__ import annotations

import os

from agent.errors import ConfigError

KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def require_api_key() -> None:
    """Raise before any request when no key is set: a 401 mid-run says less, later.

    Raises:
        ConfigError: neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set.
    """
    if not any(os.environ.get(name) for name in KEY_VARIABLES):
        raise ConfigError(
            "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=sk-... (and ANTHROPIC_BASE_URL for "
            "a compatible endpoint), or try it offline: subagent demo"
        )
