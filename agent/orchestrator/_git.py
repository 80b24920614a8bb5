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


async def run_git_async(env: dict[str, str], *args: str, cwd: Path) -> None:
    """`run_git` without a thread: checkouts of big trees must not hold the default executor."""
    import asyncio

    process = await asyncio.create_subprocess_exec(
        "git", *args, env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        _, err = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await asyncio.shield(process.wait())
        raise
    if process.returncode != 0:
        raise WorktreeError(f"git {' '.join(args[:3])} failed ({process.returncode}): {err.decode().strip()}")


def nul_list(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(p) + b"\0" for p in paths)
