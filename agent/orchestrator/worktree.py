"""A subagent's private copy of the workspace, made from a checkpoint, removed when it is done.

Children that may edit files side by side each get one, so they never overwrite each other. The
copy is checked out from a snapshot commit of the workspace's shadow repository (it works in a
folder that is not a git repository, and never touches the user's own repository) with its own
index, so saving the child's work is one `git write-tree` over the files it changed. Worktrees
live under `<data>/worktrees/`; `remove()` deletes the folder and its index, also after a cancel.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import Literal

from agent import paths
from agent.orchestrator._git import git_target, nul_list, run_git, run_git_async
from agent.orchestrator.materialise import not_a_folder
from agent.sessions.checkpoints import ShadowRepo

PACK_THRESHOLD = 256
"""Loose objects in the shadow repository above which they are packed before a checkout."""


def pack_objects(repo: ShadowRepo, threshold: int = PACK_THRESHOLD) -> bool:
    """Pack the shadow repository's loose objects when there are many (blocking).

    Snapshots write one loose object per file; checking 5,000 of them out opens 5,000 object
    files, three times slower than reading one pack. Only local objects are packed (`-l`: the
    user's repository, used as an alternate, is never copied in). Returns whether it packed.
    """
    target = repo.git.target
    counted = run_git(target, "count-objects").stdout.decode().split()
    if not counted or int(counted[0]) < threshold:
        return False
    with repo.git.locked():
        run_git(target, "repack", "-d", "-l", "-q")
    return True


def worktrees_home() -> Path:
    """Where every worktree of this runtime lives (tests check it is empty afterwards)."""
    return paths.worktrees_home()


def sweep_orphans() -> list[Path]:
    """Remove worktrees (checkouts, and overlay trees' folders) whose process is gone; returns
    them. An overlay's mount died with its process's namespace; its folders remain."""
    from agent.orchestrator.mountns import remove_tree

    home = worktrees_home()
    removed: list[Path] = []
    for entry in home.iterdir() if home.is_dir() else []:
        pid = entry.name.rsplit(".", 1)[-1]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        remove_tree(entry)
        removed.append(entry)
    return removed


def sweep_worktrees() -> list[str]:
    """Remove the worktrees of processes that are gone, and base checkouts nobody uses that are
    stale (`agent.orchestrator.bases.sweep`); returns what was removed, and logs it for `subagent
    doctor` (`agent.sessions.leftovers.record_swept`). Each front end's run starts with it
    (`agent.api.run_events`), as do a dispatch, a worker and `subagent doctor`."""
    from agent.orchestrator import bases
    from agent.sessions.leftovers import record_swept

    removed = [str(path) for path in sweep_orphans()]
    record_swept("worktree", removed, "its process is gone")
    stale = bases.sweep()
    record_swept("base checkout", stale, "unused, and not the newest of a workspace that still exists")
    return removed + stale


CopyKind = Literal["checkout", "reflink"]


class Worktree:
    """One copy of snapshot `base` with its own index; `snapshot()` commits what the child changed
    on top of it. A `checkout` is written by git (`populate`); a `reflink` tree is cloned from the
    base checkout (`agent.orchestrator.reflink.populate`)."""

    def __init__(self, repo: ShadowRepo, base: str, root: Path, kind: CopyKind = "checkout") -> None:
        self.repo = repo
        self.base = base
        self.root = root
        self.kind: CopyKind = kind
        self.path = root / "tree"
        """The child's workspace."""
        self.index = root / "index"
        self.head = base
        """The last snapshot of this worktree (starts at `base`)."""
        self._git = git_target(repo, self.path, self.index)

    @classmethod
    def reserve(cls, repo: ShadowRepo, base: str, name: str, kind: CopyKind = "checkout") -> Worktree:
        """An empty worktree folder, its path known at once; `populate()` fills it.

        The folder's name ends with this process's id, so worktrees left by a process that was
        killed (no `finally` ran) are removed the next time one is made (`sweep_orphans`).
        """
        sweep_orphans()
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40]
        root = worktrees_home() / f"{safe}-{uuid.uuid4().hex[:8]}.{os.getpid()}"
        (root / "tree").mkdir(parents=True)
        return cls(repo, base, root, kind)

    def starts_at(self, commit: str) -> None:
        """The snapshot the tree holds, for a tree reserved before it was taken (`trees.PENDING`)."""
        self.base = self.head = commit

    def populate(self) -> None:
        """Check `base` out into the folder (blocking: call it in a thread).

        Raises:
            WorktreeError: git could not read or check out the snapshot.
        """
        run_git(self._git, "read-tree", self.base)
        # -u records each file's stat data, so the first snapshot hashes only what changed.
        run_git(self._git, "checkout-index", "--all", "--force", "-u")

    async def populate_async(self) -> None:
        """`populate` as subprocesses the event loop waits on (no thread held for seconds)."""
        await run_git_async(self._git, "read-tree", self.base)
        await run_git_async(self._git, "checkout-index", "--all", "--force", "-u")

    def advance(self, older: str) -> None:
        """Bring a tree (and its index) that holds snapshot `older` to `base`, writing only the
        files that differ (blocking).

        Raises:
            WorktreeError: git could not read either snapshot or write the files.
        """
        run_git(self._git, "read-tree", "-m", "-u", older, self.base)

    @classmethod
    def create(cls, repo: ShadowRepo, base: str, name: str) -> Worktree:
        """`reserve` then `populate` (blocking); nothing is left behind when it fails."""
        worktree = cls.reserve(repo, base, name)
        try:
            worktree.populate()
        except BaseException:
            worktree.remove()
            raise
        return worktree

    def snapshot(self, label: str) -> str:
        """Commit the worktree as it is now on top of the last snapshot; returns the commit.

        What changed is git's own change list: the index's stat data against the files'. Files
        written in the same second as the index are "racily clean" to git, which re-reads them at
        every look (after a checkout, all of its last second's files) until an index written later
        records them again: the refresh does, once, so later snapshots read only what changed.
        """
        run_git(self._git, "update-index", "-q", "--refresh", ok=(0, 1))
        listed = run_git(self._git, "ls-files", "-z", "--others", "--modified", "--exclude-standard").stdout
        changed = [os.fsdecode(p) for p in dict.fromkeys(listed.split(b"\0")) if p and not p.endswith(b"/")]
        present: list[str] = []
        gone: list[str] = []
        for rel in changed:
            try:
                mode = os.lstat(self.path / rel).st_mode
            except OSError:
                gone.append(rel)
                continue
            # a path below a folder made a link reads through it, yet is gone from the tree
            (gone if stat.S_ISDIR(mode) or not_a_folder(self.path, rel) else present).append(rel)
        if gone:
            run_git(self._git, "update-index", "--force-remove", "-z", "--stdin", stdin=nul_list(gone))
        if present:
            run_git(self._git, "update-index", "--add", "--replace", "-z", "--stdin", stdin=nul_list(present))
        tree = run_git(self._git, "write-tree").stdout.decode().strip()
        if tree == self.repo.tree(self.head):
            return self.head
        made = run_git(self._git, "commit-tree", tree, "-p", self.head, "-m", label or "subagent")
        self.head = made.stdout.decode().strip()
        return self.head

    async def snapshot_async(self, label: str) -> str:
        """`snapshot` off the event loop (the runtime's checkpointer calls this)."""
        import asyncio

        return await asyncio.to_thread(self.snapshot, label)

    def remove(self) -> None:
        """Delete the worktree and its index; safe to call twice."""
        shutil.rmtree(self.root, ignore_errors=True)

    async def remove_async(self) -> None:
        """`remove` as an `rm -rf` subprocess: thousands of unlinks must not hold an executor thread."""
        import asyncio

        try:
            process = await asyncio.create_subprocess_exec("rm", "-rf", "--", str(self.root))
        except OSError:  # no rm: fall back to the thread
            await asyncio.to_thread(self.remove)
            return
        await process.wait()
        if self.root.exists():
            await asyncio.to_thread(self.remove)
