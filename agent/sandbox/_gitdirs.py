"""What of a root's git repository decides what runs later: found without running anything it holds.

A root's `.git` is a folder, or a file naming the git dir elsewhere (a linked worktree, a
submodule). Either way the git dir's config and hooks, and those of the common dir it shares
with the main worktree (`commondir`), decide what git executes on the host; so does the folder
named by `core.hooksPath` (husky's `.husky/_`). `git config --file ... --no-includes` reads that
key and only that: no include is followed, nothing configured is run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

GIT_DIR_PROTECTED: tuple[str, ...] = (
    "config",
    "config.worktree",
    "hooks",
    "commondir",
    "gitdir",
    "worktrees",
    "modules",
)
"""Inside a git dir and its common dir: what git reads to decide what to run, or where to look."""


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def git_dir_of(root: Path) -> Path | None:
    """The git dir of the work tree at `root`: `root/.git`, or where a `.git` file points."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return _real(dot_git)
    if not dot_git.is_file():
        return None
    try:
        first = dot_git.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    if not first.startswith("gitdir:"):
        return None
    return _real(root / first.removeprefix("gitdir:").strip())


def common_dir_of(git_dir: Path) -> Path:
    """The common dir a linked worktree's git dir shares (itself when there is no `commondir`)."""
    try:
        text = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return git_dir
    return _real(git_dir / text) if text else git_dir


def hooks_path(config: Path, work_tree: Path, home: Path) -> Path | None:
    """The folder `core.hooksPath` names in the config file `config` (no include followed)."""
    if not config.is_file():
        return None
    try:
        if b"hookspath" not in config.read_bytes().lower():
            return None  # the common case costs no git process
        found = subprocess.run(
            ["git", "config", "--file", str(config), "--no-includes", "--get", "core.hooksPath"],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "HOME": str(home),
            },
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = found.stdout.strip()
    if found.returncode != 0 or not value:
        return None
    if value.startswith("~/"):
        return _real(home / value[2:])
    return _real(work_tree / value)  # an absolute value stays as it is


def protected_git_paths(root: Path, home: Path) -> Iterator[Path]:
    """Every path of `root`'s repository that bash must not change (absolute; may not exist)."""
    git_dir = git_dir_of(root)
    if git_dir is None:
        return
    if (root / ".git").is_file():
        yield root / ".git"
    common = common_dir_of(git_dir)
    for folder in dict.fromkeys((git_dir, common)):
        yield from (folder / name for name in GIT_DIR_PROTECTED)
        for config in ("config", "config.worktree"):
            if (hooks := hooks_path(folder / config, root, home)) is not None:
                yield hooks
