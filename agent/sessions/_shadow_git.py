"""Run git against a shadow repository whose work tree is the user's workspace.

Every command names its own `GIT_DIR`, `GIT_WORK_TREE` and `GIT_INDEX_FILE` and goes through
`agent.hostgit.runner`, so nothing reads or writes the user's HEAD, index, refs, stash, hooks or
config, and nothing any config names (fsmonitor, hooks, filters, drivers, pagers) can run. The
shadow repository's own config, attributes and excludes are pinned: restored before every
command if anything else changed them. Blobs come back byte for byte as they were read.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.errors import CheckpointRepoError, GitDirRefusedError, HostGitError
from agent.hostgit.layout import find_repository
from agent.hostgit.runner import GitTarget, init_repository, run_git, write_pins

log = logging.getLogger(__name__)

DEFAULT_EXCLUDES = (
    ".git/",
    "node_modules/",
    ".venv/",
    "venv/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
)
"""Never snapshotted, whatever the workspace's .gitignore says."""

_CONFIG = """[core]
	repositoryformatversion = 0
	bare = true
	autocrlf = false
	safecrlf = false
	filemode = true
	symlinks = true
	untrackedCache = false
	fsmonitor = false
	quotepath = false
	hooksPath = /dev/null
[gc]
	auto = 0
[commit]
	gpgSign = false
"""
# Highest-precedence attributes: store and restore bytes exactly (no eol conversion, no filter),
# diff with no driver, merge with git's own text merge: no driver a config could define applies.
_ATTRIBUTES = "* -text -filter -ident -eol -working-tree-encoding !diff merge\n"
PINNED = (
    ("config", _CONFIG),
    ("info/attributes", _ATTRIBUTES),
    ("info/exclude", "\n".join(DEFAULT_EXCLUDES) + "\n"),
)
"""The shadow repository's own files, exactly (see `GitTarget.pinned`)."""
IDENTITY = ("subagent", "checkpoints@subagent.invalid")


class ShadowGit:
    """git commands bound to one shadow repository and one workspace."""

    def __init__(self, git_dir: Path, workspace: Path) -> None:
        self.git_dir = git_dir
        self.workspace = workspace
        self.index = git_dir / "index"
        self.target = GitTarget(
            git_dir=git_dir, work_tree=workspace, index=self.index, identity=IDENTITY, pinned=PINNED
        )
        """The shadow repository with the workspace as work tree; `.at()` points it at another."""

    def run(self, *args: str, index: Path | None = None, stdin: bytes | None = None) -> str:
        """Run `git ARGS` in the workspace and return stdout unstripped (for `-z` output).

        Raises:
            CheckpointRepoError: git failed (its stderr says why), or could not start.
            GitDirRefusedError: the shadow repository's pinned files were tampered with.
        """
        target = self.target if index is None else self.target.at(self.workspace, index)
        try:
            return run_git(target, *args, stdin=stdin).stdout.decode("utf-8", errors="surrogateescape")
        except GitDirRefusedError:
            raise
        except HostGitError as exc:
            raise CheckpointRepoError(self.git_dir, _explained(str(exc))) from exc
        except OSError as exc:  # the workspace (git's cwd) or the repository's files are gone
            raise CheckpointRepoError(self.git_dir, f"git could not run in {self.workspace}: {exc}") from exc

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One git operation at a time on this shadow repository, across processes.

        Raises:
            CheckpointRepoError: its folder cannot be made or locked (a file where the folder
                goes, a full or read-only disk).
        """
        try:
            self.git_dir.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.git_dir.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CheckpointRepoError(self.git_dir, f"cannot be opened: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._clear_stale_git_locks()
            yield
        finally:
            os.close(fd)

    def _clear_stale_git_locks(self) -> None:
        """Remove git lock files left by a process killed mid-operation.

        Every writer holds our flock first, so a git `*.lock` seen while we hold it is stale;
        without this, one `kill -9` during a snapshot would block all later ones.
        """
        for stale in [self.git_dir / "index.lock", *self.git_dir.glob("refs/heads/**/*.lock")]:
            stale.unlink(missing_ok=True)

    def ensure_initialised(self) -> None:
        """Create the bare shadow repository on first use; share the workspace repo's objects.

        Raises:
            CheckpointRepoError: git or the disk refused to create it.
        """
        if (self.git_dir / "HEAD").is_file():
            return
        try:
            init_repository(self.git_dir, bare=True)
            write_pins(self.target)
            if objects := _workspace_objects(self.workspace):
                alternates = self.git_dir / "objects" / "info"
                alternates.mkdir(parents=True, exist_ok=True)
                (alternates / "alternates").write_text(f"{objects}\n")
        except GitDirRefusedError:
            raise
        except (HostGitError, OSError) as exc:
            raise CheckpointRepoError(self.git_dir, f"cannot be created: {exc}") from exc


_GONE_OBJECT = (
    "bad object",
    "unknown revision",
    "not a valid object name",
    "bad revision",
    "not a tree object",
)


def _explained(detail: str) -> str:
    """git's words, with what a missing snapshot means for the person reading them."""
    if not any(words in detail for words in _GONE_OBJECT):
        return detail
    return (
        "a snapshot it held is gone (was the data dir moved or pruned?): the steps taken before "
        f"cannot be diffed or undone; new steps are checkpointed again. git said: {detail}"
    )


def _workspace_objects(workspace: Path) -> Path | None:
    """The object directory of the repository the workspace belongs to, if any (read-only use).

    A repository whose `.git` redirects somewhere odd is not used: snapshots then keep every
    object themselves.
    """
    try:
        layout = find_repository(workspace)
    except GitDirRefusedError as exc:
        log.warning("checkpoints of %s do not share the repository's objects: %s", workspace, exc)
        return None
    objects = layout.common_dir / "objects" if layout is not None else None
    return objects if objects is not None and objects.is_dir() else None
