"""Property: an overlay tree's snapshot equals a checkout's after the same changes, whatever they are.

Run as a process of its own (it must enter its mount namespace before any thread starts):
`python -m tests.orchestrator.cow_property EXAMPLES [SCRATCH]`. For each example a workspace is
snapshotted twice (L, then C after random changes to it), an overlay tree of C is layered on a
base of L (so the difference is seeded into its upper folder: whiteouts, type changes) and a
checkout of C is made beside it; where SCRATCH (default /var/tmp) has reflinks, a reflinked tree
cloned from the base of L and brought to C by git too. The same random operations then run in
all of them (writes in place, appends, deletions of files and folders, renames, symlinks, mode
changes, ignored files, files in `node_modules/`), with snapshots at random points. Every
snapshot of the overlay and of the reflinked tree must be the checkout's tree, and the base must
never change. Prints which trees were compared; exit 0, or hypothesis's falsifying example.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.orchestrator import mountns

RIGHTS = mountns.enter()  # before anything starts a thread

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NAMES = ("a", "b", "c.txt", "d.log", "node_modules")
PATHS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
OPS = st.one_of(
    st.tuples(st.just("write"), PATHS, st.binary(max_size=20)),
    st.tuples(st.just("append"), PATHS, st.binary(min_size=1, max_size=5)),
    st.tuples(st.just("delete"), PATHS),
    st.tuples(st.just("rename"), PATHS, PATHS),
    st.tuples(st.just("symlink"), PATHS, st.sampled_from(NAMES)),
    st.tuples(st.just("chmod"), PATHS, st.booleans()),
    st.tuples(st.just("mkdir"), PATHS),
    st.tuples(
        st.just("snapshot"),
    ),
)


def apply(root: Path, op: tuple[Any, ...]) -> str:
    """Do `op` under `root`; returns "ok" or the error's name (it must be the same in both trees)."""
    kind, *args = op
    path = root / args[0] if args else root
    try:
        if kind == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(args[1])
        elif kind == "append":
            with open(path, "ab") as handle:  # in place: the overlay copies it up first
                handle.write(args[1])
        elif kind == "delete":
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        elif kind == "rename":
            target = root / args[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            _rename(path, target)
        elif kind == "symlink":
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(args[1], path)
        elif kind == "chmod":
            os.chmod(path, 0o755 if args[1] else 0o644, follow_symlinks=True)
        elif kind == "mkdir":
            path.mkdir(parents=True)
    except OSError as exc:
        if kind == "rename" and exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return "not empty"  # rename(2) onto a non-empty folder: ext4 says one, XFS the other
        return type(exc).__name__
    return "ok"


def _rename(path: Path, target: Path) -> None:
    """rename(2), falling back as `mv` does when an overlay refuses to rename a folder that has
    content in the base (EXDEV: it cannot record a rename without privileges, see
    docs/orchestrator.md); the checkout never takes the fallback."""
    try:
        os.rename(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if target.is_dir() and not target.is_symlink():
            if any(target.iterdir()):  # as rename(2) refuses it
                raise OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY), str(target)) from None
            target.rmdir()  # rename(2) replaces an empty folder
        elif os.path.lexists(target):  # a folder onto a file or a link
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target)) from None
        shutil.copytree(path, target, symlinks=True)
        shutil.rmtree(path)


def main(examples: int, parent: str) -> None:
    from agent.orchestrator import bases, reflink
    from agent.orchestrator.overlay import OverlayTree
    from agent.orchestrator.worktree import Worktree
    from agent.sessions.checkpoints import ShadowRepo

    assert RIGHTS.ok, RIGHTS.how
    scratch = Path(tempfile.mkdtemp(prefix="cow-property-", dir=parent))
    os.environ["SUBAGENT_HOME"] = str(scratch / "data")
    counter = iter(range(1_000_000))
    reflinks = reflink.support() is None
    print("compared with checkouts: overlay" + (", reflink" if reflinks else ""), flush=True)

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        before=st.lists(OPS, max_size=8), between=st.lists(OPS, max_size=8), during=st.lists(OPS, max_size=12)
    )
    # Found by the property, kept: a folder renamed onto a non-empty one (the test's EXDEV fallback
    # must refuse as rename(2) does); a tracked file replaced by a never-snapshotted folder (the
    # overlay's opaque `node_modules/` hid the file, and its snapshot kept it).
    @example(
        before=[("write", "a/a", b"")],
        between=[],
        during=[("rename", "b", "d.log/a/a"), ("rename", "a", "d.log")],
    )
    @example(
        before=[("write", "a", b""), ("write", "node_modules", b"")],
        between=[],
        during=[("write", "a", b""), ("delete", "node_modules"), ("write", "node_modules/a", b"")],
    )
    def same_tree(before: list[Any], between: list[Any], during: list[Any]) -> None:
        ws = scratch / f"ws{next(counter)}"
        ws.mkdir()
        (ws / ".gitignore").write_text("*.log\n")
        for op in before:
            apply(ws, op)
        repo = ShadowRepo(ws)
        lower = repo.snapshot("L")
        base = bases.acquire(repo, lower)
        base_files = sorted(str(p.relative_to(base.tree)) for p in base.tree.rglob("*"))
        for op in between:
            apply(ws, op)
        commit = repo.snapshot("C")
        cow = OverlayTree.reserve(repo, commit, "property")
        cow.populate(base)
        checkout = Worktree.reserve(repo, commit, "property")
        checkout.populate()
        trees: list[OverlayTree | Worktree] = [cow]
        if reflinks:  # cloned from the base of L (held: it cannot be refreshed), then brought to C
            trees.append(Worktree.reserve(repo, commit, "property", "reflink"))
            reflink.populate(trees[-1], bases.acquire(repo, commit))
        try:
            for tree in trees:
                assert repo.tree(tree.snapshot("start")) == repo.tree(commit), tree.kind
            for op in during:
                if op[0] == "snapshot":
                    expected = repo.tree(checkout.snapshot("s"))
                    assert [repo.tree(t.snapshot("s")) for t in trees] == [expected] * len(trees), op
                    continue
                outcome = apply(checkout.path, op)
                assert [apply(t.path, op) for t in trees] == [outcome] * len(trees), op
            expected = repo.tree(checkout.snapshot("end"))
            assert [repo.tree(t.snapshot("end")) for t in trees] == [expected] * len(trees)
        finally:
            for tree in (*trees, checkout):
                tree.remove()
        assert sorted(str(p.relative_to(base.tree)) for p in base.tree.rglob("*")) == base_files
        assert base.commit == lower  # older than the tree: the difference was seeded, not written here

    try:
        same_tree()
    finally:
        mountns.remove_tree(scratch)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50, sys.argv[2] if len(sys.argv) > 2 else "/var/tmp")
