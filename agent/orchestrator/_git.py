"""git against a workspace's shadow repository with a chosen work tree and index.

The orchestrator's worktrees and merges share the shadow repository's objects (one object store
per workspace, see `agent.sessions.checkpoints`) but never its index or its snapshot chain.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent.errors import WorktreeError
from agent.sessions.checkpoints import ShadowRepo


def git_env(repo: ShadowRepo, work_tree: Path, index: Path) -> dict[str, str]:
    """The shadow repository's environment, pointed at another work tree and index."""
    env = {**os.environ, **repo.git.env(index)}
    env["GIT_WORK_TREE"] = str(work_tree)
    return env


def run_git(
    env: dict[str, str], *args: str, cwd: Path, stdin: bytes | None = None, ok: tuple[int, ...] = (0,)
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS`; raises WorktreeError unless the exit code is in `ok`."""
    done = subprocess.run(["git", *args], env=env, cwd=cwd, input=stdin, capture_output=True)
    if done.returncode not in ok:
        err = done.stderr.decode(errors="replace").strip()
        raise WorktreeError(f"git {' '.join(args[:3])} failed ({done.returncode}): {err}")
    return done


def nul_list(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
