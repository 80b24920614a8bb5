"""Where the runtime keeps things: the one place that reads the data and config locations."""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Sessions, checkpoints and saved outputs: `$SUBAGENT_HOME`, else `$XDG_DATA_HOME/subagent`."""
    if explicit := os.environ.get("SUBAGENT_HOME"):
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "subagent"


def worktrees_home() -> Path:
    """Subagents' worktrees: `$SUBAGENT_WORKTREES`, else `<data>/worktrees`.

    Pointing it at a tmpfs (`/dev/shm/subagent`) makes checkouts several times faster on a slow
    disk; the sandbox binds a worktree wherever it is.
    """
    if explicit := os.environ.get("SUBAGENT_WORKTREES"):
        return Path(explicit)
    return data_home() / "worktrees"


def bases_home() -> Path:
    """The checkouts subagents' copy-on-write trees are layered on (one per workspace, reused
    across runs): `<data>/bases`. Never under the worktrees, which are all a run's own."""
    return data_home() / "bases"


def subagent_trees_left() -> bool:
    """Whether any subagent's worktree or base checkout is on disk (either folder has an entry):
    where none is, a run has nothing of them to sweep and need not load the code that would."""
    for folder in (worktrees_home(), bases_home()):
        try:
            with os.scandir(folder) as entries:
                if next(entries, None) is not None:
                    return True
        except OSError:  # missing (none made yet) or unreadable (the sweep would skip it too)
            continue
    return False


def config_home() -> Path:
    """The user's config: `$XDG_CONFIG_HOME/subagent` (config.yaml, agents/, AGENTS.md, trusted folders)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "subagent"


def user_config_file() -> Path:
    """The user's own settings (agents.yaml's schema), trusted because only the user writes there."""
    return config_home() / "config.yaml"


def trusted_folders_file() -> Path:
    """The folders the user trusts (`subagent trust`); written by the runtime, not by hand."""
    return config_home() / "trusted-folders.json"


def builtin_dir() -> Path:
    """The folder holding the shipped `prompts/` and `agents.yaml`.

    In a source checkout (or an editable install) that is the repository root; in a wheel the
    files are packed under `agent/_builtin/`.
    """
    package = Path(__file__).resolve().parent
    packed = package / "_builtin"
    if (packed / "agents.yaml").is_file():
        return packed
    return package.parent


def claude_home() -> Path:
    """Claude Code's user folder (`~/.claude/settings.json`, `skills/`, `commands/`):
    `$CLAUDE_CONFIG_DIR`, else `~/.claude`, as Claude Code itself reads it."""
    if explicit := os.environ.get("CLAUDE_CONFIG_DIR"):
        return Path(explicit)
    return Path.home() / ".claude"
