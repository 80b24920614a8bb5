"""The workspace on a worker: a fresh checkout of the subtask's commit for each attempt.

The dispatcher pins each subtask to a git source and a commit (`pin_workspace`); the worker
fetches exactly that commit into a per-attempt directory (`prepare_workspace`) and, when
resuming, applies the checkpoint's patch on top. Git runs as a subprocess off the event loop,
through `agent.hostgit`: a repository on this machine (the source, or an attempt's checkout after
the agent worked in it) is only read through a view that never opens its config or hooks, and
fetching runs in the new checkout's own repository with the user's system and global config
(credentials, proxies) but nothing a repository configured.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from agent.errors import ConfigError, HostGitError, WorkspaceFetchError
from agent.hostgit.layout import find_repository
from agent.hostgit.runner import GitTarget, init_repository, run_git
from agent.hostgit.view import repository_view
from agent.orchestrator.base import SubtaskSpec
from agent.orchestrator.temporal.models import WorkspaceRef

_TIMEOUT_S = 600.0


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
    wanted = f"{spec.commit or 'HEAD'}^{{commit}}"
    try:
        with _local_repository(path) as view:
            found = run_git(view, "rev-parse", "--verify", "--end-of-options", wanted)
    except HostGitError as exc:
        raise ConfigError(
            f"subtask {spec.id}: workspace {path} with commit {spec.commit or 'HEAD'} cannot be pinned "
            f"({exc}); remote workers need a git repository and a commit: commit your changes or "
            "set the task's cwd to a git URL"
        ) from None
    return WorkspaceRef(source=str(path), commit=found.stdout.decode().strip())


def _remote_head(subtask_id: str, url: str) -> str:
    """The commit a remote's HEAD points at now, so every attempt checks out the same tree."""
    try:
        with tempfile.TemporaryDirectory(prefix="subagent-ls-remote-") as scratch:
            init_repository(Path(scratch), bare=True)  # ls-remote runs in a repository of ours
            listed = run_git(
                GitTarget(Path(scratch), network=True),
                "ls-remote",
                "--end-of-options",
                url,
                "HEAD",
                timeout=_TIMEOUT_S,
            )
    except HostGitError as exc:
        raise ConfigError(
            f"subtask {subtask_id}: cannot read HEAD of {url} ({exc}); check the URL and "
            "your git credentials, or give the task a commit"
        ) from None
    commit = listed.stdout.decode().split("\t", 1)[0].strip()
    if not commit:
        raise ConfigError(
            f"subtask {subtask_id}: cannot read HEAD of {url} (no HEAD); check the URL "
            "and your git credentials, or give the task a commit"
        )
    return commit


async def prepare_workspace(subtask_id: str, ref: WorkspaceRef, dest: Path) -> Path:
    """Check out `ref.commit` from `ref.source` into `dest` (created empty).

    Raises:
        WorkspaceFetchError: the repository or the commit cannot be fetched.
    """
    try:
        await asyncio.to_thread(_fetch_and_check_out, ref, dest)
    except HostGitError as exc:
        raise WorkspaceFetchError(subtask_id, ref.source, ref.commit, str(exc)) from None
    return dest


def _fetch_and_check_out(ref: WorkspaceRef, dest: Path) -> None:
    init_repository(dest, bare=False)
    checkout = GitTarget(dest / ".git", dest, network=True)
    with _fetch_source(ref.source) as source:
        try:
            run_git(
                checkout,
                "fetch",
                "-q",
                "--depth",
                "1",
                "--end-of-options",
                source,
                ref.commit,
                timeout=_TIMEOUT_S,
            )
        except HostGitError:  # a server that will not serve a bare commit: fetch its branches and tags
            refs = ["+refs/heads/*:refs/remotes/src/*", "+refs/tags/*:refs/tags/*"]
            run_git(checkout, "fetch", "-q", "--end-of-options", source, *refs, timeout=_TIMEOUT_S)
    commit = run_git(checkout, "rev-parse", "--verify", "--end-of-options", f"{ref.commit}^{{commit}}")
    run_git(checkout, "checkout", "-q", "--detach", commit.stdout.decode().strip(), timeout=_TIMEOUT_S)


@contextmanager
def _fetch_source(source: str) -> Iterator[str]:
    """What to fetch from: a view of a repository on this machine (so git's upload-pack never reads
    that repository's config), else the URL as given."""
    if source.startswith("file://"):
        local: Path | None = Path(unquote(urlparse(source).path))
    else:
        local = None if _is_url(source) else Path(source)
    if local is None or not local.is_dir():
        yield source
        return
    with _local_repository(local) as view:
        yield str(view.git_dir)


@contextmanager
def _local_repository(path: Path) -> Iterator[GitTarget]:
    """A view of the repository `path` is in (see `agent.hostgit.view`).

    Raises:
        HostGitError: `path` is not in a git repository, or its `.git` is refused.
    """
    layout = find_repository(path) if path.is_dir() else None
    if layout is None:
        raise HostGitError(f"{path} is not in a git repository" if path.is_dir() else "no such directory")
    with repository_view(layout, timeout=_TIMEOUT_S) as view:
        yield view


async def apply_patch(workspace: Path, patch: str) -> None:
    """Apply a checkpoint's patch (from `workspace_patch`) to a fresh checkout."""
    if not patch.strip():
        return
    try:
        await asyncio.to_thread(
            _in_view,
            workspace,
            ["apply", "--binary", "--whitespace=nowarn", "-"],
            patch.encode("utf-8", errors="surrogateescape"),
        )
    except HostGitError as exc:
        raise WorkspaceFetchError(workspace.name, str(workspace), None, f"checkpoint patch: {exc}") from None


async def workspace_patch(workspace: Path) -> str:
    """`git diff --binary` of everything changed since the checked-out commit, new files included.

    Runners call this to fill `SubtaskCheckpoint.patch` and `SubtaskResult.patch`. The agent has
    worked in `workspace`: its repository is read through a view, never through its own config.
    """
    await asyncio.to_thread(_in_view, workspace, ["add", "-A", "-N", "."])
    done = await asyncio.to_thread(_in_view, workspace, ["diff", "--binary", "HEAD"])
    return done.decode("utf-8", errors="surrogateescape")


def _in_view(workspace: Path, args: list[str], stdin: bytes | None = None) -> bytes:
    with _local_repository(workspace) as view:
        return run_git(view, *args, stdin=stdin, timeout=_TIMEOUT_S).stdout


def _is_url(source: str) -> bool:
    return "://" in source or (source.count(":") == 1 and "@" in source.split(":")[0])
