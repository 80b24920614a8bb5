"""Checkpoints: git commits of the workspace in a shadow repository, and restoring them.

One bare repository per workspace under `<data>/checkpoints/<hash of the path>/`, with its own
index, its own refs and the workspace as its work tree (see `_shadow_git`). Snapshots form one
chain on `refs/heads/snapshots`, so every one stays reachable. The workspace's .gitignore is
honoured, plus `DEFAULT_EXCLUDES`; files over `max_file_bytes` are left out with a note.

The API is synchronous (git subprocesses); async callers use `asyncio.to_thread`.
"""

import hashlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent import paths
from agent.sessions._shadow_git import ShadowGit

_REF = "refs/heads/snapshots"
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_NAME_STATUS: dict[tuple[Path, str, str], list[tuple[str, str]]] = {}
_NAME_STATUS_KEPT = 256
_NAME_STATUS_LOCK = threading.Lock()
_NEWEST: dict[Path, tuple[str, str, tuple[int, ...] | None]] = {}
"""Per shadow repository, what this process last knew of its newest snapshot: (commit, tree,
and the index's stat data when the tree was written from it, else None). Every `ShadowRepo` of
one workspace shares it, so a new one asks git for none of it."""


class SnapshotResult(BaseModel):
    commit: str
    skipped: list[str] = []
    """Workspace-relative paths left out because they are larger than `max_file_bytes`."""
    notes: list[str] = []


class PlannedRestore(BaseModel):
    """One file a restore would touch."""

    path: str
    """Relative to the workspace."""
    action: Literal["delete", "restore", "revert"]
    """delete: created since the snapshot; restore: deleted since; revert: changed since."""


class ChangedFile(BaseModel):
    path: str
    change: Literal["added", "modified", "deleted"]


class RestoreResult(BaseModel):
    commit: str
    """The snapshot the workspace now equals."""
    before: str
    """A snapshot of the workspace taken just before the restore: restoring it undoes the undo."""
    changes: list[PlannedRestore]


class ShadowRepo:
    """Snapshots and restores of one workspace, without touching its own git repository."""

    def __init__(
        self, workspace: Path, data_dir: Path | None = None, max_file_bytes: int = 5_000_000
    ) -> None:
        self.workspace = Path(workspace).resolve()
        base = data_dir or paths.data_home() / "checkpoints"
        key = hashlib.sha256(str(self.workspace).encode()).hexdigest()[:20]
        self.git = ShadowGit(base / key, self.workspace)
        self.max_file_bytes = max_file_bytes

    @property
    def git_dir(self) -> Path:
        return self.git.git_dir

    def snapshot(self, label: str) -> str:
        """Commit the workspace as it is now; returns the commit (the last one if nothing changed)."""
        return self.snapshot_result(label).commit

    def snapshot_result(self, label: str) -> SnapshotResult:
        """`snapshot`, also reporting the files skipped for their size."""
        with self.git.locked():
            self.git.ensure_initialised()
            return self._snapshot(label)

    def _snapshot(self, label: str) -> SnapshotResult:
        changed, nested = self._changed_paths()
        present, gone, skipped = self._sort_paths(changed)
        if gone or skipped:
            self.git.run("update-index", "--force-remove", "-z", "--stdin", stdin=_nul_list(gone + skipped))
        if present:  # only the changed paths are hashed: one scan of the tree per snapshot
            self.git.run("update-index", "--add", "--replace", "-z", "--stdin", stdin=_nul_list(present))
        notes = [f"not snapshotted (larger than {self.max_file_bytes} bytes): {path}" for path in skipped]
        notes += [f"not snapshotted (a separate git repository): {path}" for path in nested]
        last = self._newest()
        if (
            last
            and not (present or gone or skipped)
            and last[2] is not None
            and last[2] == self._index_stat()
        ):
            return SnapshotResult(commit=last[0], skipped=skipped, notes=notes)  # nothing changed
        tree = self.git.run("write-tree").strip()
        if last and last[1] == tree:
            _NEWEST[self.git_dir] = (last[0], tree, self._index_stat())
            return SnapshotResult(commit=last[0], skipped=skipped, notes=notes)
        parent = ["-p", last[0]] if last else []
        commit = self.git.run("commit-tree", tree, *parent, "-m", label or "snapshot").strip()
        self.git.run("update-ref", _REF, commit)
        _NEWEST[self.git_dir] = (commit, tree, self._index_stat())
        return SnapshotResult(commit=commit, skipped=skipped, notes=notes)

    def _newest(self) -> tuple[str, str, tuple[int, ...] | None] | None:
        """The newest snapshot's (commit, tree, the index's stat data when that tree was written
        from it); remembered while the loose ref still names that commit.

        Reading the ref file saves a git process per snapshot; another process that moved the
        ref, or a packed ref, falls back to asking git.
        """
        try:
            on_disk = (self.git_dir / _REF).read_text().strip()
        except OSError:
            on_disk = ""
        known = _NEWEST.get(self.git_dir)
        if known and known[0] == on_disk:
            return known
        found = self.git.run("for-each-ref", "--format=%(objectname) %(tree)", _REF).split()
        if not found:
            _NEWEST.pop(self.git_dir, None)
            return None
        _NEWEST[self.git_dir] = (found[0], found[1], None)
        return _NEWEST[self.git_dir]

    def _index_stat(self) -> tuple[int, ...] | None:
        """The index file's identity and stat data: git replaces the file on every write, so an
        equal one holds the same entries (the tree written from it is still the tree)."""
        try:
            info = os.stat(self.git.index)
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def _changed_paths(self) -> tuple[list[str], list[str]]:
        """New, modified and deleted paths since the last snapshot (ignored files excluded).

        Untracked folders that are git repositories of their own are listed with a trailing
        slash; they are returned apart and left out, as restoring one file by file would be wrong.
        """
        listed = self.git.run("ls-files", "-z", "--others", "--modified", "--exclude-standard")
        unique = list(dict.fromkeys(p for p in listed.split("\0") if p))
        return [p for p in unique if not p.endswith("/")], [p for p in unique if p.endswith("/")]

    def _sort_paths(self, paths: list[str]) -> tuple[list[str], list[str], list[str]]:
        """Split changed paths into (files to store, paths gone, files too large to store)."""
        present: list[str] = []
        gone: list[str] = []
        large: list[str] = []
        for path in paths:
            try:
                info = os.lstat(self.workspace / path)
            except OSError:  # deleted, or a parent became a file
                gone.append(path)
                continue
            if stat.S_ISDIR(info.st_mode):  # a file that became a folder; its files are listed too
                gone.append(path)
            elif info.st_size > self.max_file_bytes:
                large.append(path)
            else:
                present.append(path)
        return present, gone, large

    def tree(self, commit: str) -> str:
        """The tree id of a snapshot: equal trees mean equal workspaces."""
        return self.git.run("rev-parse", f"{commit}^{{tree}}").strip()

    def plan_restore(self, commit: str) -> list[PlannedRestore]:
        """What `restore(commit)` would do to the workspace now, to show before asking."""
        current = self.snapshot("before restore (plan)")
        return self._plan(current, commit)

    def _plan(self, current: str, target: str) -> list[PlannedRestore]:
        actions: dict[str, Literal["delete", "restore", "revert"]] = {"A": "restore", "D": "delete"}
        return [
            PlannedRestore(path=path, action=actions.get(status[0], "revert"))
            for status, path in self._name_status(current, target)
        ]

    def restore(self, commit: str, only: Collection[str] | None = None) -> RestoreResult:
        """Make the workspace equal the snapshot `commit`: files, bytes and executable bits.

        Files created since are deleted (and the folders they leave empty), deleted or changed
        files come back. Ignored and oversized files are never touched. `only`: just these paths
        (the undo of one session leaves other sessions' files as they are).
        """
        with self.git.locked():
            self.git.ensure_initialised()
            before = self._snapshot(f"before restore to {commit[:12]}").commit
            plan = [p for p in self._plan(before, commit) if only is None or p.path in only]
            self._delete([item.path for item in plan if item.action == "delete"])
            self._checkout(commit, [item.path for item in plan if item.action != "delete"])
            self._snapshot(f"restored {commit[:12]}")
        return RestoreResult(commit=commit, before=before, changes=plan)

    def _delete(self, relative: list[str]) -> None:
        parents: set[Path] = set()
        for path in relative:
            target = self.workspace / path
            if target.is_symlink() or target.is_file():
                target.unlink()
            parents.update(p for p in target.parents if self.workspace in p.parents)
        for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()  # only succeeds when empty: leaves anything we did not create
            except OSError:
                continue

    def _checkout(self, commit: str, relative: list[str]) -> None:
        if not relative:
            return
        with tempfile.TemporaryDirectory(dir=self.git_dir) as scratch:
            index = Path(scratch) / "index"
            self.git.run("read-tree", commit, index=index)
            self.git.run("checkout-index", "--force", "-z", "--stdin", index=index, stdin=_nul_list(relative))

    def changed_files(self, a: str, b: str | None = None) -> list[ChangedFile]:
        """Files that differ from snapshot `a` to `b` (default: the workspace now)."""
        b = b or self.snapshot("compare")
        kinds: dict[str, Literal["added", "modified", "deleted"]] = {"A": "added", "D": "deleted"}
        return [
            ChangedFile(path=path, change=kinds.get(status[0], "modified"))
            for status, path in self._name_status(a, b)
        ]

    def diff(self, a: str, b: str | None = None) -> str:
        """Unified diff from snapshot `a` to `b` (default: the workspace now)."""
        b = b or self.snapshot("compare")
        return self.git.run("diff", "--no-color", "--no-ext-diff", a, b)

    def create_branch(self, name: str, commit: str) -> str:
        """Keep `commit` reachable as `refs/heads/<name>` in the shadow repository; returns the ref."""
        self.git.run("check-ref-format", "--branch", name)
        ref = f"refs/heads/{name}"
        with self.git.locked():
            self.git.run("update-ref", ref, commit)
        return ref

    def _name_status(self, a: str, b: str) -> list[tuple[str, str]]:
        """(status, path) of each path that differs between two commits; remembered for commit
        ids (they never change): a child's run and its merge both ask for its own changes."""
        key = (self.git_dir, a, b)
        with _NAME_STATUS_LOCK:
            known = _NAME_STATUS.get(key)
        if known is not None:
            return list(known)
        out = self.git.run("diff-tree", "-r", "-z", "--no-renames", "--name-status", a, b)
        fields = [f for f in out.split("\0") if f]
        found = list(zip(fields[0::2], fields[1::2], strict=True))
        if _COMMIT_ID.fullmatch(a) and _COMMIT_ID.fullmatch(b):
            with _NAME_STATUS_LOCK:
                while len(_NAME_STATUS) >= _NAME_STATUS_KEPT:
                    del _NAME_STATUS[next(iter(_NAME_STATUS))]
                _NAME_STATUS[key] = list(found)
        return found


def _nul_list(paths: list[str]) -> bytes:
    return b"".join(os.fsencode(path) + b"\0" for path in paths)  # names need not be UTF-8
