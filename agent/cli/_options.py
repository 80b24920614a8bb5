"""What several commands check the same way: --permission-mode and the API key before a run."""

from __future__ import annotations

from pathlib import Path

PERMISSION_MODE_HELP = "default|accept-edits|plan|bypass"


def permission_mode_error(mode: str | None) -> str | None:
    """Why `--permission-mode mode` is not accepted, or None when it is (or was not given)."""
    from typing import get_args

    from agent.permissions.models import PermissionMode

    modes = get_args(PermissionMode)
    if mode is None or mode in modes:
        return None
    return f"--permission-mode must be one of {', '.join(modes)}, not {mode!r}"


def api_key_error(script: Path | None) -> str | None:
    """Why a run cannot reach the model, or None; a scripted model (`--script`) needs no key."""
    from agent.errors import ConfigError
    from agent.model.credentials import require_api_key

    if script is not None:
        return None
    try:
        require_api_key()
    except ConfigError as exc:
        return str(exc)
    return None


TRUST_HELP = (
    "Trust this workspace for this run: its .subagent/config.yaml and personas may widen what "
    "your config grants (sandbox, permissions, network); see `subagent trust`."
)


def own_mount_namespace() -> None:
    """Enter the runtime's own mount namespace while the process is still single-threaded, so
    subagents can get copy-on-write trees (`agent.orchestrator.mountns`). A process that cannot
    stays as it is: its subagents get checkouts, and `subagent doctor` says why."""
    from agent.orchestrator.mountns import enter

    enter()
