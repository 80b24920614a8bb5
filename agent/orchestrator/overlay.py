"""A subagent's copy-on-write tree: an overlay of a base checkout, its changes in an upper folder.

Made in milliseconds whatever the size of the repository: the base checkout (`bases`) is the
read-only lower layer, shared by every sibling and reused across runs; the child's writes, bash's
in-place edits, deletions and renames included, land in its own upper folder, so siblings and the
base never see them. The tree is mounted in the runtime's own mount namespace (`mountns`), where
the file tools, bash (bubblewrap binds it like any folder), ripgrep and git all see the same one.

A snapshot reads only the upper folder (`upper.read_upper`): the base's entries, minus what was
deleted, plus what was written, hashed by git from the tree. When the base is older than the
child's checkpoint (every base of the workspace is in use and the difference is small), the
difference is written into the upper folder before mounting, with whiteouts for deleted files.

    <worktrees>/<name>-<id>.<pid>/tree    the mount point: the child's workspace
    <worktrees>/<name>-<id>.<pid>/upper   its changes
    <worktrees>/<name>-<id>.<pid>/work    overlayfs's scratch folder
    <worktrees>/<name>-<id>.<pid>/index   the index its snapshots are written through
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import threading
import uuid
from pathlib import Path
from typing import Literal

from agent.orchestrator import bases, mountns
from agent.orchestrator._git import git_target, nul_list, run_git
from agent.orchestrator.bases import Base
from agent.orchestrator.upper import UpperChanges, read_upper
from agent.orchestrator.worktree import sweep_orphans, worktrees_home
from agent.sessions.checkpoints import ShadowRepo


class OverlayTree:
    """One child's overlay tree made from snapshot `base`; `snapshot()` commits what it changed."""

    kind: Literal["overlay"] = "overlay"

    def __init__(self, repo: ShadowRepo, base: str, root: Path) -> None:
        self.repo = repo
        self.base = base
        """The child's checkpoint: what its tree equals when it starts."""
        self.root = root
        self.path = root / "tree"
        self.upper = root / "upper"
        self.head = base
        """The last snapshot of this tree (starts at `base`)."""
        self.lower: Base | None = None
        self._index = root / "index"
        self._mounted = False
        self._removed = False
        self._lock = threading.Lock()
        """Snapshots, populating and removing happen one at a time."""
        self._trees: dict[str, str] = {}
        self._last: tuple[UpperChanges, str] | None = None
        """The upper folder as the last snapshot read it, and the tree it made."""

    @classmethod
    def reserve(cls, repo: ShadowRepo, base: str, name: str) -> OverlayTree:
        """Its folders, the mount point's path known at once; `populate()` mounts it.

        The folder's name ends with this process's id, as a checkout's does: a killed run's
        folders are removed by the next run (its mounts died with its namespace).
        """
        sweep_orphans()
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40]
        root = worktrees_home() / f"{safe}-{uuid.uuid4().hex[:8]}.{os.getpid()}"
        for part in ("tree", "upper", "work"):
            (root / part).mkdir(parents=True)
        return cls(repo, base, root)

    def starts_at(self, commit: str) -> None:
        """The snapshot the tree holds, for a tree reserved before it was taken (`trees.PENDING`)."""
        self.base = self.head = commit

    def populate(self, lower: Base) -> None:
        """Layer the tree on `lower`, held for it (`bases.acquire`; `remove` gives it back).

        Blocking: call it in a thread. When `lower` is older than `base`, the difference is
        written into the upper folder first.

        Raises:
            TreeMountError: the kernel refused the mount.
            WorktreeError: git could not write the difference.
        """
        with self._lock:
            self.lower = lower
            if self._removed:  # removed (a cancel) while the base was being found
                self._let_go()
                return
            if lower.commit != self.base:
                _seed(self.repo, self.upper, lower.commit, self.base)
            mountns.mount_overlay(lower.tree, self.upper, self.root / "work", self.path)
            self._mounted = True
            # every snapshot compares with it: looked up now, while the child's first model
            # turn is in flight, not in its first snapshot (maybe its end of run, then merge)
            self._tree_of(self.base)

    def adopt(self, lower: Base) -> None:
        """Take `lower` without mounting (its populating was cancelled): let go of it now if the
        tree is already removed, else when it is."""
        with self._lock:
            if self._removed:
                bases.detach(lower)
            else:
                self.lower = lower

    def snapshot(self, label: str) -> str:
        """Commit the tree as it is now on top of the last snapshot; returns the commit."""
        with self._lock:
            tree = self._tree()
            if tree == self._tree_of(self.head):
                return self.head
            made = run_git(
                self.repo.git.target, "commit-tree", tree, "-p", self.head, "-m", label or "subagent"
            )
            self.head = made.stdout.decode().strip()
            self._trees[self.head] = tree
            return self.head

    def _tree_of(self, commit: str) -> str:
        if commit not in self._trees:
            self._trees[commit] = self.repo.tree(commit)
        return self._trees[commit]

    async def snapshot_async(self, label: str) -> str:
        """`snapshot` off the event loop (the runtime's checkpointer calls this)."""
        return await asyncio.to_thread(self.snapshot, label)

    def _tree(self) -> str:
        """The tree id of the base's entries with what the upper folder holds or hides: `git add
        -A` of only those paths (nothing else can differ from the base), through a copy of the
        base's stat-free index, so every one is hashed. Reused while the upper folder is as the
        last snapshot found it (the end of a run and the merge both snapshot)."""
        assert self.lower is not None, "snapshot before populate"
        changes = read_upper(self.upper)
        if changes.empty:
            return self._tree_of(self.lower.commit)
        if self._last is not None and changes.same_as(self._last[0], self.upper):
            return self._last[1]
        shutil.copyfile(self.lower.clean_index, self._index)
        git = git_target(self.repo, self.path, self._index)
        specs = [f":(literal){path}" for path in (*changes.gone, *changes.present)]
        # exit 1: some of the new paths are ignored (.gitignore), and were rightly left out
        run_git(
            git,
            "add",
            "-A",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            stdin=nul_list(specs),
            ok=(0, 1),
        )
        tree = run_git(git, "write-tree").stdout.decode().strip()
        self._last = (changes, tree)
        return tree

    def remove(self) -> None:
        """Unmount the tree, let go of the base, delete the folders; safe to call twice, and
        before or while `populate` runs (it then mounts nothing)."""
        with self._lock:
            self._removed = True
            self._let_go()

    def _let_go(self) -> None:
        if self._mounted:
            mountns.unmount(self.path)
            self._mounted = False
        if self.lower is not None:
            bases.detach(self.lower)
            self.lower = None
        mountns.remove_tree(self.root)

    async def remove_async(self) -> None:
        await asyncio.to_thread(self.remove)


def _seed(repo: ShadowRepo, upper: Path, old: str, new: str) -> None:
    """Write into `upper` what changed from snapshot `old` (the lower layer) to `new`."""
    out = run_git(repo.git.target, "diff-tree", "-r", "-z", "--no-renames", "--name-status", old, new).stdout
    fields = [os.fsdecode(f) for f in out.split(b"\0") if f]
    pairs = list(zip(fields[0::2], fields[1::2], strict=True))
    written = [path for status, path in pairs if status != "D"]
    deleted = [path for status, path in pairs if status == "D"]
    if written:
        index = upper.parent / "index"
        git = git_target(repo, upper.parent / "tree", index)
        run_git(git, "read-tree", new)
        run_git(
            git, "checkout-index", "--force", f"--prefix={upper}/", "-z", "--stdin", stdin=nul_list(written)
        )
        index.unlink()
    for path in _whiteouts(repo, new, deleted, written):
        target = upper / path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))


def _whiteouts(repo: ShadowRepo, new: str, deleted: list[str], written: list[str]) -> list[str]:
    """Where to put whiteouts for `deleted`: the highest folder of each that `new` no longer
    has at all, else the file; none where a written path takes its place (a file became a
    folder or the other way round: the upper entry hides the lower one by itself)."""
    if not deleted:
        return []
    listed = run_git(repo.git.target, "ls-tree", "-r", "-t", "--name-only", "-z", new).stdout
    remaining = {os.fsdecode(p) for p in listed.split(b"\0") if p}
    files = set(written)
    folders = {parent.as_posix() for path in written for parent in Path(path).parents}
    chosen: dict[str, None] = {}
    for path in deleted:
        above = {parent.as_posix() for parent in Path(path).parents}
        if path in files or path in folders or above & files:
            continue
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix not in remaining:
                chosen.setdefault(prefix)
                break
    return list(chosen)
