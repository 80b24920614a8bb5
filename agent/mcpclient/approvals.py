"""The user's approvals of the MCP servers a workspace defines.

Kept in the user's config folder (`mcp-approvals.json`), out of the repository's reach, keyed by
the workspace and the server's name; each holds the definition's fingerprint
(`ServerDef.fingerprint`), so a definition the repository changes after the approval needs
approving again. The file decides what later runs start, so it is the user's alone: 0600, in
folders made 0700, whatever the umask, and not read where another user could have written it
(docs/security.md, "The runtime's own files").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from agent._atomic_file import write_atomic
from agent.errors import ConfigError
from agent.mcpclient.config import ServerDef
from agent.paths import config_home, make_private_folder, read_private


def approvals_file() -> Path:
    return config_home() / "mcp-approvals.json"


def _load() -> dict[str, dict[str, str]]:
    path = approvals_file()
    try:
        text = read_private(path, what="which MCP servers your runs start")
        if text is None:
            return {}
        raw = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable ({exc}); delete it and approve the servers again") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not an approvals file; delete it and approve the servers again")
    return {str(k): dict(v) for k, v in raw.items() if isinstance(v, dict)}


def approval_of(workspace: Path, server: ServerDef) -> Literal["approved", "changed", "none"]:
    """Whether the user approved exactly this definition of `server` for `workspace` (`approved`),
    another definition of that name (`changed`), or none."""
    held = _load().get(str(workspace.resolve()), {}).get(server.name)
    if held is None:
        return "none"
    return "approved" if held == server.fingerprint() else "changed"


def approve(workspace: Path, server: ServerDef) -> None:
    """Record the approval of `server`'s current definition for `workspace` (atomically)."""
    approvals = _load()
    approvals.setdefault(str(workspace.resolve()), {})[server.name] = server.fingerprint()
    path = approvals_file()
    make_private_folder(path.parent)  # the user's alone, as the trusted folders
    write_atomic(path, json.dumps(approvals, indent=2, sort_keys=True) + "\n", mode=0o600, fsync=False)
