"""Files a workspace names must stay inside it: a persona or prompt file is sent to the model API,
so a link or a `../` out of the folder would send any file the user can read (`~/.ssh/id_rsa`).

Paths are resolved (every symlink followed) before they are compared; a file that is not a
regular file (a FIFO, a device) is refused too, so loading config never blocks. A file read later
than it was checked (while bash may change the workspace) is read with `read_resolved`, which
reads the checked path or nothing: never a link swapped in since.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from agent.nofollow import open_nofollow
from agent.paths import user_config_file
from agent.trust.refusal import Refusal


def outside(path: Path, folder: Path) -> Path | None:
    """Where `path` really leads when that is not inside `folder` (both resolved); else None."""
    real = Path(os.path.realpath(path))
    root = Path(os.path.realpath(folder))
    if real == root or real.is_relative_to(root):
        return None
    return real


def not_regular(path: Path) -> str | None:
    """Why `path` cannot be read as a config or persona file (not a regular file); None if it can."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, a device or a folder)"
    return None


def read_resolved(real: Path, limit: int) -> tuple[bytes, int]:
    """Up to `limit` bytes of the regular file at `real`, a path resolved and checked earlier, and
    the file's size; read only if what opens is that file (`agent.nofollow.open_nofollow`: a link
    swapped in since the check, at any depth, is refused rather than followed).

    Raises:
        OSError: it cannot be opened, is not a regular file, or a component is a link now (ELOOP).
    """
    fd = open_nofollow(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, a device or a folder)", str(real))
        chunks: list[bytes] = []
        while limit > 0 and (chunk := os.read(fd, min(limit, 1 << 16))):
            chunks.append(chunk)
            limit -= len(chunk)
        return b"".join(chunks), info.st_size
    finally:
        os.close(fd)


def confine_prompts(raw: dict[str, Any], config: Path, workspace: Path, *, trusted: bool) -> list[Refusal]:
    """Take out of a workspace config's `raw` every `agents.NAME.prompt` that leads out of bounds.

    Untrusted, a prompt file must be inside the config's own folder (`.subagent/`); trusted, inside
    the workspace. A file outside the workspace is refused either way: name it in the user's
    config (`agent.paths.user_config_file()`) instead.
    """
    refusals: list[Refusal] = []
    bound = workspace if trusted else config.parent
    for name, entry in raw.get("agents", {}).items():
        prompt = entry.get("prompt")
        if prompt is None:
            continue
        real = outside(Path(prompt), bound)
        if real is None:
            continue
        del entry["prompt"]
        key = f"agents.{name}.prompt"
        if outside(real, workspace) is None:
            why = f"{real} is outside {bound}, and a prompt file is sent to the model API"
            refusals.append(Refusal(config, key, why, workspace, agent=name))
        else:
            refusals.append(
                Refusal(
                    config,
                    key,
                    f"it leads to {real}, outside the workspace, and would be sent to the model API",
                    workspace,
                    agent=name,
                    lifted_by_trust=False,
                    fix=f"a workspace may only name files inside it; name it in {user_config_file()} instead",
                )
            )
    return refusals


def confine_persona(path: Path, workspace: Path) -> Refusal | None:
    """A refusal when a workspace persona file leads outside the workspace (a link), else None."""
    real = outside(path, workspace)
    if real is None:
        return None
    return Refusal(
        path,
        "(the file)",
        f"it leads to {real}, outside the workspace, and would be sent to the model API",
        workspace,
        agent=None,
        lifted_by_trust=False,
        fix="keep workspace personas inside the workspace, or put it in "
        f"{user_config_file().parent / 'agents'}",
    )
