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
works) does not hold its old side, a deletion opens each folder of its path without following one
(`agent.nofollow.open_nofollow`), and a write goes through descriptors of folders opened the same
way (`agent.orchestrator.fdwrite`). Otherwise deleting `foo/.bashrc` would delete `~/.bashrc`, and
a swap in the instant between a check of `foo` and a write by name would write into HOME. A path
refused so is named in a `MergeRefusedError`, raised once the rest is written.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.errors import MergeRefusedError, WorktreeError
from agent.nofollow import open_nofollow
from agent.orchestrator import catfile
from agent.orchestrator._git import run_git
from agent.orchestrator.fdwrite import NO_FOLDER_NOW, Placed, Refused, path_refusal, write_files
from agent.sessions.checkpoints import ShadowRepo

_ABSENT = "000000"
_GITLINK = "160000"


@dataclass(frozen=True, eq=False, repr=False)
class Change:
    """One path that differs between two trees (`git diff-tree --raw`)."""

    path: str
    old_mode: str
    old_sha: str
    new_mode: str
    new_sha: str

    @property
    def added(self) -> bool:
        """The old side had no such path."""
        return self.old_mode == _ABSENT

    @property
    def gone(self) -> bool:
        """The new side has no such path."""
        return self.new_mode == _ABSENT


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
    """Whether `relative` holds the blob `sha` with `mode` (absent for `_ABSENT`), read through its
    folder opened without following a link: a folder on the way that is a link or a file now does
    not hold it, and what is read is a regular file opened without blocking (a FIFO swapped in by
    a racing loop would otherwise hang the merge)."""
    path = workspace / relative
    try:
        folder = open_nofollow(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return mode == _ABSENT
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return False
        raise
    try:
        return _holds_in(folder, path.name, mode, sha)
    finally:
        os.close(folder)


def _holds_in(folder: int, name: str, mode: str, sha: str) -> bool:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return mode == _ABSENT
    if stat.S_ISLNK(info.st_mode):
        return mode == "120000" and _blob_id(os.fsencode(os.readlink(name, dir_fd=folder)), sha) == sha
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return False  # changed since the stat
    now = os.fstat(fd).st_mode
    if not stat.S_ISREG(now) or mode != ("100755" if now & stat.S_IXUSR else "100644"):
        os.close(fd)  # a folder (a file the merge adds where one is now) or a FIFO: not the old side
        return False
    with os.fdopen(fd, "rb") as handle:  # which refuses a folder with IsADirectoryError
        return _blob_id(handle.read(), sha) == sha


def not_a_folder(workspace: Path, relative: str) -> tuple[str, bool] | None:
    """The first folder on the way to `relative` that is no folder now, and whether it is a
    symbolic link (else a file, or anything else); None when each is a folder, up to a missing one."""
    for parent in reversed(Path(relative).parents[:-1] if relative else ()):
        try:
            mode = os.lstat(workspace / parent).st_mode
        except FileNotFoundError:
            return None
        if not stat.S_ISDIR(mode):
            return parent.as_posix(), stat.S_ISLNK(mode)
    return None


def _blob_id(data: bytes, like: str) -> str:
    """git's id of a blob holding `data`, in the hash `like` is in (SHA-1, or SHA-256)."""
    digest = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(data) + data).hexdigest()


def write(repo: ShadowRepo, changes: list[Change]) -> None:
    """Make the workspace's files the new side of `changes` (a folder whose files were all deleted
    goes too, as it would have gone in the child's tree). Every folder is opened without following
    a link and every file written through its folder's descriptor (`agent.orchestrator.fdwrite`);
    the contents are streamed from one `git cat-file --batch`, a chunk at a time.

    Raises:
        MergeRefusedError: after writing the rest, naming each path not written or not deleted
            because a folder on its path is no folder now (swapped during the merge), or the path
            itself cannot be (`fdwrite.path_refusal`).
    """
    workspace = repo.workspace
    refused: list[Refused] = []
    emptied: set[Path] = set()
    for change in changes:
        if change.gone:
            if (why := _remove(workspace / change.path)) is not None:
                refused.append(Refused(change.path, why))
            emptied.update(p for p in (workspace / change.path).parents if workspace in p.parents)
    for folder in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        _remove(folder, folder=True)  # only an empty one goes: what else is there stays
    written = [c for c in changes if not c.gone]
    if written:
        blobs = [c.new_sha for c in written if c.new_mode != _GITLINK]
        with catfile.Batch(repo.git.target, blobs) as batch:
            asked = itertools.count()  # each blob's place among the names asked, in `written`'s order
            files = (
                Placed(
                    c.path, c.new_mode, () if c.new_mode == _GITLINK else _blob(repo, batch, c, next(asked))
                )
                for c in written
            )
            refused += write_files(workspace, files)
    if refused:
        raise MergeRefusedError(workspace, {r.path: r.why for r in refused})


def _blob(repo: ShadowRepo, batch: catfile.Batch, change: Change, index: int) -> Iterator[bytes]:
    """The content of `change`'s new blob, the `index`th asked of `batch`, in chunks, read when
    the first one is wanted (the answer for a file refused before it is written is skipped)."""
    if (answer := batch.answer(index)) is None:
        raise WorktreeError(
            f"the shadow repository {repo.git_dir} has no object {change.new_sha} ({change.path})"
        )
    yield from catfile.content(batch.answers, answer[1])


def _remove(path: Path, *, folder: bool = False) -> str | None:
    """Delete the file (or, with `folder`, the empty folder) `path` through its folder, opened
    without following a link; a missing one is no error, nor is a folder that is not empty.
    Returns why it was not deleted when a folder on its path is no folder now (a symbolic link
    swapped in during the merge), or the path itself cannot be deleted (`path_refusal`: a folder
    stands there, its folder is not writable), else None."""
    try:
        parent = open_nofollow(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None  # gone already, with its folder
    except OSError as exc:
        if folder:
            return None
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return NO_FOLDER_NOW
        if (why := path_refusal(exc)) is None:
            raise
        return why
    try:
        with contextlib.suppress(OSError if folder else FileNotFoundError):
            (os.rmdir if folder else os.unlink)(path.name, dir_fd=parent)
    except OSError as exc:  # a folder stands there now, or the user may not delete it
        if (why := path_refusal(exc)) is None:
            raise
        return why
    finally:
        os.close(parent)
    return None
