"""The workspace on a worker: a fresh checkout of the subtask's commit for each attempt.

The dispatcher pins each subtask to a git source and a commit (`pin_workspace`); the worker
fetches exactly that commit into a per-attempt directory (`prepare_workspace`) and, when
resuming, applies the checkpoint's patch on top. Git runs as a subprocess off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from agent.errors import ConfigError, WorkspaceFetchError
from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.temporal.models import WorkspaceRef

_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}


def pin_workspace(spec: SubtaskSpec, default_cwd: Path) -> WorkspaceRef:
    """Resolve where a remote worker fetches this subtask's workspace, commit included.

    A local path is kept as the source (workers on this machine or a shared mount can fetch it)
    and its HEAD is pinned when the spec names no commit; uncommitted changes do not travel.

    Raises:
        ConfigError: the workspace is a local folder that is not a git repository.
    """
    source = spec.cwd or str(default_cwd)
    if _is_url(source):
        return WorkspaceRef(source=source, commit=spec.commit or _remote_head(spec.id, source))
    path = Path(source).expanduser().resolve()
    probe = _git(["rev-parse", spec.commit or "HEAD"], cwd=path) if path.is_dir() else None
    if probe is None or probe.returncode != 0:
        reason = probe.stderr.strip() if probe is not None else "no such directory"
        raise ConfigError(
            f"subtask {spec.id}: workspace {path} with commit {spec.commit or 'HEAD'} cannot be pinned "
            f"({reason}); remote workers need a git repository and a commit: commit your changes or "
            "set the task's cwd to a git URL"
        )
    return WorkspaceRef(source=str(path), commit=probe.stdout.strip())


def _remote_head(subtask_id: str, url: str) -> str:
    """The commit a remote's HEAD points at now, so every attempt checks out the same tree."""
    listed = _git(["ls-remote", url, "HEAD"], cwd=Path.cwd())
    commit = listed.stdout.split("\t", 1)[0].strip()
    if listed.returncode != 0 or not commit:
        raise ConfigError(
            f"subtask {subtask_id}: cannot read HEAD of {url} ({listed.stderr.strip() or 'no HEAD'}); "
            "check the URL and your git credentials, or give the task a commit"
        )
    return commit


async def prepare_workspace(subtask_id: str, ref: WorkspaceRef, dest: Path) -> Path:
    """Check out `ref.commit` from `ref.source` into `dest` (created empty).

    Raises:
        WorkspaceFetchError: the repository or the commit cannot be fetched.
    """
    dest.mkdir(parents=True, exist_ok=True)
    await _git_ok(subtask_id, ref, ["init", "-q", "."], dest)
    shallow = await asyncio.to_thread(_git, ["fetch", "-q", "--depth", "1", ref.source, ref.commit], dest)
    if shallow.returncode != 0:
        refs = ["+refs/heads/*:refs/remotes/src/*", "+refs/tags/*:refs/tags/*"]
        await _git_ok(subtask_id, ref, ["fetch", "-q", ref.source, *refs], dest)
    await _git_ok(subtask_id, ref, ["checkout", "-q", "--detach", ref.commit], dest)
    return dest


async def apply_patch(workspace: Path, patch: str) -> None:
    """Apply a checkpoint's patch (from `workspace_patch`) to a fresh checkout."""
    if not patch.strip():
        return
    done = await asyncio.to_thread(
        _git, ["apply", "--binary", "--whitespace=nowarn", "-"], workspace, patch
    )
    if done.returncode != 0:
        raise WorkspaceFetchError(workspace.name, str(workspace), None, f"checkpoint patch: {done.stderr}")


async def workspace_patch(workspace: Path) -> str:
    """`git diff --binary` of everything changed since the checked-out commit, new files included.

    Runners call this to fill `SubtaskCheckpoint.patch` and `SubtaskResult.patch`.
    """
    await asyncio.to_thread(_git, ["add", "-A", "-N", "."], workspace)
    done = await asyncio.to_thread(_git, ["diff", "--binary", "HEAD"], workspace)
    return done.stdout


async def _git_ok(subtask_id: str, ref: WorkspaceRef, args: list[str], cwd: Path) -> None:
    done = await asyncio.to_thread(_git, args, cwd)
    if done.returncode != 0:
        raise WorkspaceFetchError(subtask_id, ref.source, ref.commit, done.stderr.strip() or "git failed")


def _git(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_GIT_ENV}
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args], cwd=cwd, input=stdin,
        capture_output=True, text=True, env=env, timeout=600,
    )


def _is_url(source: str) -> bool:
    return "://" in source or (source.count(":") == 1 and "@" in source.split(":")[0])
