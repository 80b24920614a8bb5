"""Base checkouts: the read-only lower layer of subagents' copy-on-write trees, reused across runs.

One checkout of a workspace snapshot serves every child's overlay tree made from it, in this run
and later ones: it is built once (in the background, while the orchestrator's model writes its
`task` calls) and brought to a newer snapshot by writing only the files that differ. An overlay's
lower layer must not change while it is mounted, so each base carries a lock: every process with
trees on it holds it shared, and only a process that can hold it exclusively refreshes or removes
it. A child whose snapshot is newer than a base in use gets the difference written into its own
upper folder instead (`agent.orchestrator.overlay`).

    <bases>/<workspace key>.lock          choosing, building, refreshing: one process at a time
    <bases>/<workspace key>/workspace     the workspace's path (a base of a vanished one is swept)
    <bases>/<workspace key>/<id>/tree     the checkout
    <bases>/<workspace key>/<id>/index    its git index (stat data for refreshing in place)
    <bases>/<workspace key>/<id>/clean    the same entries without stat data (children's snapshots)
    <bases>/<workspace key>/<id>/commit   the snapshot it equals; written last: none, not complete
    <bases>/<workspace key>/<id>/lock     shared while used, exclusive to change

The API is blocking (git subprocesses, file locks): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from agent import paths
from agent.errors import HostGitError
from agent.hostgit._files import read_small, replace_text
from agent.orchestrator._git import run_git
from agent.orchestrator.mountns import remove_tree
from agent.orchestrator.worktree import pack_objects
from agent.sessions.checkpoints import ShadowRepo

STALE_AFTER_S = 14 * 24 * 3600
"""A base nobody used for this long is removed by the next sweep, even if it is the newest."""


@dataclasses.dataclass(eq=False, repr=False)
class Base:
    """One complete base checkout, locked shared by this process while `users` hold it."""

    root: Path
    commit: str
    fd: int
    """The base's lock file, shared (exclusive only while this process changes it)."""
    users: int = 0
    """Live trees of this process layered on it."""

    @property
    def tree(self) -> Path:
        return self.root / "tree"

    @property
    def clean_index(self) -> Path:
        return self.root / "clean"


_held: dict[Path, Base] = {}
"""The bases this process holds a lock on, by root (one lock per base per process)."""
_guard = threading.Lock()


def bases_of(repo: ShadowRepo) -> Path:
    return paths.bases_home() / repo.git_dir.name


def acquire(repo: ShadowRepo, commit: str) -> Base:
    """A base for `commit`, held for one tree (give it back with `detach`).

    Its commit is `commit` unless every base of the workspace is in use elsewhere and the
    difference is small (`SEED_LIMIT`): then it is an older one, and the caller writes the
    difference into its tree.

    Raises:
        WorktreeError: git could not check out or refresh the snapshot.
    """
    return _find_or_make(repo, commit)


def prepare(repo: ShadowRepo, commit: str) -> None:
    """Make sure a base for `commit` exists (built or refreshed now), without holding it."""
    detach(acquire(repo, commit))


SEED_LIMIT = 2000
"""Above this many changed files a newer base is built rather than the difference seeded."""


def _find_or_make(repo: ShadowRepo, commit: str) -> Base:
    home = bases_of(repo)
    home.mkdir(parents=True, exist_ok=True)
    with _workspace_lock(home):
        if not (home / "workspace").is_file():
            replace_text(home / "workspace", str(repo.workspace))
        complete = _complete(home)
        for root, found in complete:
            if found == commit:
                return _hold(root, found)
        for root, found in complete:
            base = _exclusive(root, found)
            if base is not None:
                return _refreshed(repo, base, commit)
        for root, found in complete:
            if _difference(repo, found, commit) <= SEED_LIMIT:
                return _hold(root, found)
        return _built(repo, home, commit)


def detach(base: Base) -> None:
    """One tree fewer on `base`; this process lets go of its lock with the last one."""
    with _guard:
        base.users -= 1
        if base.users > 0:
            return
        if _held.get(base.root) is base:
            del _held[base.root]
        os.close(base.fd)


def _hold(root: Path, commit: str) -> Base:
    """`root` for one more tree, locked shared by this process (once); marks it used now."""
    with contextlib.suppress(OSError):
        os.utime(root / "commit")
    with _guard:
        held = _held.get(root)
        if held is not None:
            held.users += 1
            return held
    fd = _open_lock(root)
    fcntl.flock(fd, fcntl.LOCK_SH)  # no process holds it exclusively without the workspace lock
    base = Base(root, commit, fd, users=1)
    with _guard:
        _held[root] = base
    return base


def _exclusive(root: Path, commit: str) -> Base | None:
    """`root` locked exclusively (nobody else, and no tree of ours, on it), or None."""
    with _guard:
        held = _held.get(root)
        if held is not None and held.users > 0:
            return None
    fd = held.fd if held is not None else _open_lock(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if held is None:
            os.close(fd)
        else:  # a failed conversion lets go of the shared lock too (flock(2)): take it back
            fcntl.flock(fd, fcntl.LOCK_SH)
        return None
    if held is not None:
        return held
    base = Base(root, commit, fd)
    with _guard:
        _held[root] = base
    return base


def _refreshed(repo: ShadowRepo, base: Base, commit: str) -> Base:
    """Bring an exclusively held base to `commit`, writing only the files that differ."""
    target = repo.git.target.at(base.tree, base.root / "index")
    try:
        (base.root / "commit").unlink()  # incomplete until it equals `commit`
        run_git(target, "read-tree", "-m", "-u", base.commit, commit)
        _write_clean_index(repo, base.root, commit)
    except (HostGitError, OSError):  # whatever happened to it, a fresh one is certain
        _drop(base)
        return _built(repo, base.root.parent, commit)
    replace_text(base.root / "commit", commit + "\n")
    base.commit = commit
    fcntl.flock(base.fd, fcntl.LOCK_SH)  # safe: every other process waits on the workspace lock
    with _guard:
        base.users = 1
    return base


def _built(repo: ShadowRepo, home: Path, commit: str) -> Base:
    """A new base for `commit` (a full checkout; objects packed first when there are many)."""
    root = home / uuid.uuid4().hex[:12]
    (root / "tree").mkdir(parents=True)
    fd = _open_lock(root)
    fcntl.flock(fd, fcntl.LOCK_EX)
    base = Base(root, commit, fd)
    try:
        pack_objects(repo)
        target = repo.git.target.at(base.tree, root / "index")
        run_git(target, "read-tree", commit)
        run_git(target, "checkout-index", "--all", "--force", "-u")
        _write_clean_index(repo, root, commit)
        replace_text(root / "commit", commit + "\n")
    except BaseException:
        os.close(fd)
        remove_tree(root)
        raise
    fcntl.flock(fd, fcntl.LOCK_SH)
    with _guard:
        base.users = 1
        _held[root] = base
    return base


def _write_clean_index(repo: ShadowRepo, root: Path, commit: str) -> None:
    """The entries of `commit` with no stat data: git hashes every path a snapshot names."""
    (root / "clean").unlink(missing_ok=True)
    run_git(repo.git.target.at(root / "tree", root / "clean"), "read-tree", commit)


def _drop(base: Base) -> None:
    with _guard:
        _held.pop(base.root, None)
    os.close(base.fd)
    remove_tree(base.root)


def _difference(repo: ShadowRepo, old: str, new: str) -> int:
    out = run_git(repo.git.target, "diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new)
    return out.stdout.count(b"\0")


def _complete(home: Path) -> list[tuple[Path, str]]:
    """The complete bases of one workspace with their commits, most recently used first."""
    found: list[tuple[float, Path, str]] = []
    for root in home.iterdir() if home.is_dir() else []:
        text = read_small(root / "commit", 256)
        if text is None or not text.strip():
            continue
        with contextlib.suppress(OSError):
            found.append((os.stat(root / "commit").st_mtime, root, text.strip()))
    return [(root, commit) for _, root, commit in sorted(found, reverse=True)]


def _open_lock(root: Path) -> int:
    return os.open(root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


@contextlib.contextmanager
def _workspace_lock(home: Path, *, wait: bool = True) -> Iterator[bool]:
    """One process at a time chooses, builds or refreshes this workspace's bases (or sweeps them)."""
    fd = os.open(home.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def sweep() -> list[str]:
    """Remove bases nobody uses that are incomplete, of a workspace that is gone, older than
    `STALE_AFTER_S`, or not the newest of their workspace; returns what was removed."""
    removed: list[str] = []
    top = paths.bases_home()
    for home in top.iterdir() if top.is_dir() else []:
        if not home.is_dir() or home.name.startswith("."):
            continue
        with _workspace_lock(home, wait=False) as mine:
            if mine:
                removed += _sweep_workspace(home)
    return removed


def _sweep_workspace(home: Path) -> list[str]:
    workspace = read_small(home / "workspace", 4096)
    gone = workspace is None or not Path(workspace.strip()).is_dir()
    newest = next(iter(_complete(home)), None)
    removed = []
    for root in list(home.iterdir()):
        if not root.is_dir():
            continue
        commit = read_small(root / "commit", 256)
        age = time.time() - _mtime(root / "commit")
        keep = commit is not None and not gone and newest is not None and newest[0] == root
        if keep and age < STALE_AFTER_S:
            continue
        if _remove_if_unused(root):
            removed.append(str(root))
    with contextlib.suppress(OSError):
        if not any(p.is_dir() for p in home.iterdir()):
            remove_tree(home)
    return removed


def _remove_if_unused(root: Path) -> bool:
    with _guard:
        if root in _held:
            return False
    try:
        fd = _open_lock(root)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    remove_tree(root)
    os.close(fd)
    return True


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0
