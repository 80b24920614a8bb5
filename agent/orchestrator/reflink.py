"""Reflinked trees: a subagent's tree cloned from the base checkout, on file systems that share extents.

Where the runtime may not mount (the Python API, no user namespaces) but the data folder is on a
file system with reflinks (XFS made with `reflink=1`, btrfs), a child's tree is a copy of the
cached base checkout (`bases`) in which every file shares the base's blocks until one of them is
written: no file's content is read or written to make it, only its metadata. It is then a checkout
like any other (`Worktree`, kind `reflink`): its own files, its own index, snapshots from git's own
change list, removal by `rm -rf`. The base is held only while it is copied.

The copy is `cp -r --reflink=always` (modes and modification times kept), measured faster than
cloning file by file from Python (`FICLONE`; bench/bench_orchestrator.py, `reflink_copy_*`). The
index is written from the base's entries and the copies' stat data (`gitindex`), so git hashes
nothing it did not see change.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import subprocess
import uuid
from pathlib import Path

from agent import paths
from agent.errors import WorktreeError
from agent.orchestrator import bases, gitindex
from agent.orchestrator._git import run_git
from agent.orchestrator.bases import Base
from agent.orchestrator.mountns import remove_tree
from agent.orchestrator.worktree import Worktree

FICLONE = 0x40049409
"""`ioctl(dest, FICLONE, source)`: `dest` shares all of `source`'s extents (linux/fs.h)."""


def support() -> str | None:
    """None when a file in the bases' folder can be reflinked into the worktrees' folder; else why
    not, in a sentence (asked once per pair of file systems in a process)."""
    home, top = paths.worktrees_home(), paths.bases_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        top.mkdir(parents=True, exist_ok=True)
        devices = (os.stat(home).st_dev, os.stat(top).st_dev)
    except OSError as exc:
        return f"cannot create the folders subagents' trees live in: {exc}"
    if devices[0] != devices[1]:
        return f"{home} and {top} are on different file systems, and reflinks cannot cross them"
    return _probe(home, top, devices[0])


@functools.cache
def _probe(home: Path, top: Path, _device: int) -> str | None:
    tag = f".reflink-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    source, target = top / tag, home / tag
    try:
        source.write_bytes(b"reflink probe\n")
        with open(source, "rb") as read, open(target, "wb") as written:
            fcntl.ioctl(written.fileno(), FICLONE, read.fileno())
    except OSError as exc:
        return f"the file system under {home} has no reflinks (FICLONE: {exc.strerror})"
    finally:
        for made in (source, target):
            with contextlib.suppress(OSError):
                made.unlink()
    return None


def populate(tree: Worktree, lower: Base) -> None:
    """Fill `tree` with a reflinked copy of `lower` and an index of it, then bring it to the tree's
    snapshot if `lower` is older (git writes the files that differ). Lets go of `lower`.

    Blocking: call it in a thread.

    Raises:
        WorktreeError: the copy or git failed (the message says which, with their words).
    """
    try:
        listed = run_git(tree.repo.git.target.at(lower.tree, lower.clean_index), "ls-files", "--stage", "-z")
        entries = gitindex.parse_stage(listed.stdout)
        clone_tree(lower.tree, tree.path)
        commit = lower.commit
    finally:
        bases.detach(lower)
    try:
        gitindex.write_index(tree.index, entries, tree.path, len(commit) // 2)
    except OSError as exc:
        raise WorktreeError(f"cannot write the index of {tree.path}: {exc}") from exc
    if commit != tree.base:
        tree.advance(commit)


def clone_tree(source: Path, target: Path) -> None:
    """`cp -r --reflink=always` of `source`'s content into the (empty) folder `target`; a symlink
    is copied as a symlink, never followed.

    Raises:
        WorktreeError: cp failed (`target` is left empty).
    """
    argv = [
        "cp",
        "-r",
        "--no-dereference",
        "--reflink=always",
        "--preserve=mode,timestamps",
        "--no-target-directory",
    ]
    done = subprocess.run(
        [*argv, "--", str(source), str(target)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        remove_tree(target)
        target.mkdir()
        why = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise WorktreeError(f"cannot reflink the base checkout {source} into {target}: {why}")
