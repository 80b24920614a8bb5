"""git against a workspace's shadow repository with a chosen work tree and index.

The orchestrator's worktrees and merges share the shadow repository's objects (one object store
per workspace, see `agent.sessions.checkpoints`) but never its index or its snapshot chain. Every
command goes through `agent.hostgit.runner` (nothing a config or a child's files name can run);
a failure is a `WorktreeError` with git's words.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent.errors import WorktreeError
from agent.hostgit import runner
from agent.hostgit.runner import GitTarget
from agent.sessions.checkpoints import ShadowRepo


def git_target(repo: ShadowRepo, work_tree: Path, index: Path) -> GitTarget:
    """The shadow repository, pointed at another work tree and index."""
    return repo.git.target.at(work_tree, index)


def run_git(
    target: GitTarget, *args: str, stdin: bytes | None = None, ok: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` in the target's work tree; raises WorktreeError unless the exit code is in `ok`."""
    return runner.run_git(target, *args, stdin=stdin, ok=ok, error=WorktreeError)


async def run_git_async(target: GitTarget, *args: str) -> None:
    """`run_git` without a thread: checkouts of big trees must not hold the default executor."""
    await runner.run_git_async(target, *args, error=WorktreeError)


def nul_list(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
