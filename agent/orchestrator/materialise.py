"""Write a merge's result into the workspace: only the files it changes, only if they still hold
what the merge assumed.

A merge runs on snapshot commits; what reaches the workspace is the difference between the
snapshot it merged onto (`ours`) and its result. When `ours` is not a fresh snapshot but the
result of the previous merge (`MergeQueue` remembers it, so a batch costs what the children
changed, not a scan of the workspace), someone may have changed the workspace since: the parent,
a tool of the same turn, the user. Each file the merge would write or delete is checked first
against `ours` (git's own blob hash, mode and type); one that differs means the merge must be
redone against a fresh snapshot, so nobody's change is overwritten.

The merge runs outside any sandbox, so it never follows a symbolic link in the workspace: a path
below a folder that became a link (the parent's bash may swap `foo/` for `foo -> ~` while a child
works) does not hold its old side, and a deletion opens each folder of its path without following
one (`agent.nofollow.open_nofollow`). Otherwise deleting `foo/.bashrc` would delete `~/.bashrc`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agent.errors import WorktreeError
from agent.nofollow import open_nofollow
from agent.orchestrator._git import run_git
from agent.sessions.checkpoints import ShadowRepo

_ABSENT = "000000"


@dataclass(frozen=True, eq=False, repr=False)
class Change:
    """One path that differs between two trees (`git diff-tree --raw`)."""

    path: str
    old_mode: str
    old_sha: str
    new_mode: str
    new_sha: str


def tree_changes(repo: ShadowRepo, old_tree: str, new_tree: str) -> list[Change]:
    out = run_git(repo.git.target, "diff-tree", "-r", "-z", "--no-renames", old_tree, new_tree).stdout
    fields = [os.fsdecode(f) for f in out.split(b"\0") if f]
    changes = []
    for header, path in zip(fields[0::2], fields[1::2], strict=True):
        old_mode, new_mode, old_sha, new_sha, _status = header.lstrip(":").split()
        changes.append(Change(path, old_mode, old_sha, new_mode, new_sha))
    return changes


def unchanged(workspace: Path, changes: list[Change]) -> bool:
    """Whether every path in `changes` still holds its old side (absent where it had none)."""
    return all(_holds(workspace, change.path, change.old_mode, change.old_sha) for change in changes)


def _holds(workspace: Path, relative: str, mode: str, sha: str) -> bool:
    path = workspace / relative
    if _through_link(workspace, relative):
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return mode == _ABSENT
    if stat.S_ISLNK(info.st_mode):
        return mode == "120000" and _blob_id(os.fsencode(os.readlink(path)), sha) == sha
    if not stat.S_ISREG(info.st_mode):
        return False
    if mode != ("100755" if info.st_mode & stat.S_IXUSR else "100644"):
        return False
    with open(path, "rb") as handle:
        return _blob_id(handle.read(), sha) == sha


def _through_link(workspace: Path, relative: str) -> bool:
    """Whether a folder on the way to `relative` is not a folder now (a symlink, a file)."""
    for parent in reversed(Path(relative).parents[:-1] if relative else ()):
        try:
            if not stat.S_ISDIR(os.lstat(workspace / parent).st_mode):
                return True
        except FileNotFoundError:
            return False
    return False


def _blob_id(data: bytes, like: str) -> str:
    """git's id of a blob holding `data`, in the hash `like` is in (SHA-1, or SHA-256)."""
    digest = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(data) + data).hexdigest()


def write(repo: ShadowRepo, changes: list[Change]) -> None:
    """Make the workspace's files the new side of `changes` (a folder whose files were all deleted
    goes too, as it would have gone in the child's tree)."""
    workspace = repo.workspace
    emptied: set[Path] = set()
    for change in changes:
        if change.new_mode == _ABSENT:
            _remove(workspace / change.path)
            emptied.update(p for p in (workspace / change.path).parents if workspace in p.parents)
    for folder in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        _remove(folder, folder=True)  # only an empty one goes: what else is there stays
    written = [c for c in changes if c.new_mode != _ABSENT]
    if not written:
        return
    entries = b"".join(f"{c.new_mode} {c.new_sha}\t".encode() + os.fsencode(c.path) + b"\0" for c in written)
    with tempfile.TemporaryDirectory(dir=repo.git_dir) as scratch:  # an index of just these entries
        index = repo.git.target.at(workspace, Path(scratch) / "index")
        run_git(index, "update-index", "-z", "--index-info", stdin=entries)
        run_git(index, "checkout-index", "--all", "--force")  # git replaces a linked folder, never follows it


def _remove(path: Path, *, folder: bool = False) -> None:
    """Delete the file (or, with `folder`, the empty folder) `path` through its folder, opened
    without following a link; a missing one is no error, nor is a folder that is not empty.

    Raises:
        WorktreeError: a folder on the path is a symbolic link now (swapped in during the merge).
    """
    try:
        parent = open_nofollow(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return  # gone already, with its folder
    except OSError as exc:
        if folder:
            return
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        raise WorktreeError(
            f"{path}: not deleted by the merge: a folder on its path is no folder now (a symbolic "
            "link or a file was put there meanwhile), and the merge follows no link"
        ) from None
    try:
        with contextlib.suppress(OSError if folder else FileNotFoundError):
            (os.rmdir if folder else os.unlink)(path.name, dir_fd=parent)
    finally:
        os.close(parent)
