"""Property: children merged together give exactly what merging them one by one gives.

Each example makes a workspace, snapshots it (the base), lets the parent change it (sometimes
with a second base snapshotted halfway, for later children), and gives two to four children
worktrees of a base, where random changes happen: files written, deleted, made executable or
not, symlinks, folders replaced by files and files by folders, names that sort around a
folder's, one with a newline, one ending in a carriage return, one that is no UTF-8 and one of
254 bytes. The workspace is snapshotted (the commit a merge batch starts
from), then the children are merged in one batch (`merge_onto` with all of them: those whose
changes meet nothing else applied together) and, from a copy of the same workspace, one call per
child (a `merge-tree` each, or the child's tree as it is). The recorded trees, the workspace's
files (types, modes, bytes, link targets) and each child's outcome must be the same.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agent.orchestrator import treeedit
from agent.orchestrator.merge import MergeOutcome, MergeRequest, child_changes, merge_onto
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo

LONG = "é" * 127
"""254 bytes: its temporary name, cut at 200 characters, was too long for the file system."""
NAMES = ("a", "b", "c", "a-b", "n\nl", "r\r", "o\udcff", LONG)
"""`a-b` sorts before folder `a` in a tree (`a/`); a newline keeps a child out of `treeedit`; a
folder ending in CR was read as the folder without it (`cat-file --batch` drops a CR before LF);
a byte that is no UTF-8 broke the batch's `cat-file` input (str.encode)."""
PATHS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
OPS = st.one_of(
    st.tuples(st.just("put"), PATHS, st.sampled_from((b"1\n", b"2\n", b"3\n"))),
    st.tuples(st.just("link"), PATHS, st.sampled_from(("a", "b", "../c", "x"))),
    st.tuples(st.just("delete"), PATHS),
    st.tuples(st.just("chmod"), PATHS, st.booleans()),
)
CHANGES = st.lists(OPS, max_size=4)
Op = tuple[Any, ...]


def _clear(path: Path) -> None:
    """Remove whatever is at `path` (a folder with all of it), never following a link."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.is_symlink() or path.exists():
        path.unlink()


def _apply(root: Path, op: Op) -> None:
    """Do `op` under `root`: a put or link replaces what is in its way (a file or link where a
    folder must be, a folder where the file goes); nothing is written through a link."""
    kind, rel, *args = op
    path = root / rel
    if kind in ("put", "link"):
        for folder in reversed(Path(rel).parents[:-1]):
            if (root / folder).is_symlink() or (root / folder).is_file():
                (root / folder).unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        _clear(path)
        if kind == "put":
            path.write_bytes(args[0])
        else:
            os.symlink(args[0], path)
    elif kind == "delete" and not any(p.is_symlink() for p in (root / rel).parents):
        _clear(path)
    elif kind == "chmod" and path.is_file() and not path.is_symlink():
        path.chmod(0o755 if args[0] else 0o644)


def _state(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under `root`: its type, and a file's executable bit and bytes, a link's target."""
    found: dict[str, tuple[Any, ...]] = {}
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("folder",)
            else:
                found[rel] = ("file", bool(info.st_mode & stat.S_IXUSR), Path(path).read_bytes())
    return found


def _outcome(outcome: MergeOutcome) -> tuple[Any, ...]:
    """Whether it merged, where it conflicted (a path git moved aside names the commit merged
    onto, `a~<id>`, which differs between the two ways: the id is left out), and what was refused."""
    conflicts = sorted(re.sub(r"~[0-9a-f]{40,64}$", "~", path) for path in outcome.conflicts)
    return outcome.merged, conflicts, sorted(outcome.refused.items())


def _merged_both_ways(
    start: list[Op], parent: list[Op], later: list[Op], children: list[tuple[bool, list[Op]]]
) -> tuple[Any, Any]:
    """(the batch's (outcomes, tree, files), one by one's), for one example."""
    with tempfile.TemporaryDirectory() as scratch:
        ws = Path(scratch) / "ws"
        ws.mkdir()
        for op in start:
            _apply(ws, op)
        repo = ShadowRepo(ws)
        first = repo.snapshot("base")
        for op in parent:
            _apply(ws, op)
        second = repo.snapshot("second base")
        trees = [
            (Worktree.create(repo, second if on_second else first, f"c{n}"), ops)
            for n, (on_second, ops) in enumerate(children)
        ]
        for op in later:
            _apply(ws, op)
        requests = []
        for tree, ops in trees:
            for op in ops:
                _apply(tree.path, op)
            theirs = tree.snapshot("done")
            files, patch = child_changes(repo, tree.base, theirs)
            requests.append(
                MergeRequest(
                    base=tree.base, theirs=theirs, name=tree.path.parent.name, files=files, patch=patch
                )
            )
            tree.remove()
        known = repo.snapshot("before the merges")
        shutil.copytree(ws, Path(scratch) / "copy", symlinks=True)

        together, last = merge_onto(repo, requests, known)
        batch = ([_outcome(o) for o in together], repo.tree(last or known), _state(ws))

        shutil.rmtree(ws)
        shutil.copytree(Path(scratch) / "copy", ws, symlinks=True)
        outcomes, current = [], known
        for request in requests:
            (outcome,), moved = merge_onto(repo, [request], current)
            outcomes.append(_outcome(outcome))
            current = moved or current
        return batch, (outcomes, repo.tree(current), _state(ws))


SPLIT = [("put", "a/x", b"1\n"), ("put", "b/y", b"1\n"), ("put", "c", b"1\n")]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    start=st.lists(OPS, max_size=5),
    parent=st.lists(OPS, max_size=2),
    later=st.lists(OPS, max_size=2),
    children=st.lists(st.tuples(st.booleans(), CHANGES), min_size=2, max_size=4),
)
@example(  # disjoint: each child in a folder of its own, one deleting, one changing a mode
    start=SPLIT,
    parent=[],
    later=[],
    children=[(False, [("delete", "a/x")]), (False, [("chmod", "b/y", True)]), (False, [("link", "d", "c")])],
)
@example(  # a folder made a file, and a file made a folder, beside a child that adds elsewhere
    start=SPLIT,
    parent=[],
    later=[("put", "b/z", b"2\n")],
    children=[
        (False, [("put", "a", b"2\n")]),
        (False, [("put", "c/n", b"3\n")]),
        (True, [("put", "b/w", b"3\n")]),
    ],
)
@example(  # one folder's files moved to another (git may see a directory rename), one added to it
    start=[("put", "a/x", b"1\n"), ("put", "a/y", b"2\n")],
    parent=[],
    later=[],
    children=[
        (False, [("delete", "a"), ("put", "b/x", b"1\n"), ("put", "b/y", b"2\n")]),
        (False, [("put", "a/z", b"3\n")]),
    ],
)
@example(  # a new file where another child made a new folder: git's file/folder conflict
    start=SPLIT,
    parent=[],
    later=[],
    children=[
        (False, [("put", "b/n", b"1\n")]),
        (False, [("put", "a/n", b"1\n")]),
        (False, [("put", "a/n/m", b"2\n")]),
    ],
)
@example(  # `a-b` sorts before the folder `a` in the root's tree written for both children
    start=[("put", "a/x", b"1\n"), ("put", "a-b", b"1\n")],
    parent=[],
    later=[],
    children=[(False, [("put", "a/x", b"2\n")]), (False, [("put", "c", b"2\n")])],
)
@example(  # the same path changed by two children: the second conflicts either way
    start=SPLIT,
    parent=[],
    later=[("put", "c", b"3\n")],
    children=[
        (False, [("put", "a/x", b"2\n")]),
        (False, [("put", "a/x", b"3\n")]),
        (False, [("put", "b/y", b"2\n")]),
    ],
)
@example(  # a folder ending in CR: the batch recorded `d`'s files under `d\r` too
    start=[("put", "d/y", b"1\n"), ("put", "c", b"1\n")],
    parent=[],
    later=[],
    children=[(False, [("put", "d\r/x", b"2\n")]), (False, [("put", "e", b"2\n")])],
)
@example(  # a folder whose name is no UTF-8: the batch raised UnicodeEncodeError for every child
    start=[("put", "c", b"1\n")],
    parent=[],
    later=[],
    children=[(False, [("put", "d\udcff/x", b"2\n")]), (False, [("put", "e", b"2\n")])],
)
@example(  # a 254-byte name: its temporary name was too long (ENAMETOOLONG ended the merge)
    start=[("put", "c", b"1\n")],
    parent=[],
    later=[],
    children=[(False, [("put", LONG, b"2\n")]), (False, [("put", "e", b"2\n")])],
)
@example(  # a folder made a link and one made a file, beside a child deleting below the link
    start=SPLIT,
    parent=[],
    later=[],
    children=[
        (False, [("delete", "a"), ("link", "a", "b")]),
        (False, [("delete", "b"), ("put", "b", b"2\n")]),
        (False, [("delete", "a/x")]),
    ],
)
@example(  # a folder of files made a link to a folder holding the same names: the snapshot
    # once read `b/a/a` through the link and git refused it ("beyond a symbolic link")
    start=[("put", "a", b"1\n"), ("put", "b/a/a", b"1\n")],
    parent=[],
    later=[],
    children=[(False, []), (False, [("put", "a", b"1\n"), ("put", "a/a/a", b"2\n"), ("link", "b", "a")])],
)
def test_children_merged_together_equal_one_by_one(
    start: list[Op], parent: list[Op], later: list[Op], children: list[tuple[bool, list[Op]]]
) -> None:
    batch, one_by_one = _merged_both_ways(start, parent, later, children)

    assert batch == one_by_one


def test_the_batch_path_is_taken_for_children_that_meet_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    """The property compares results; this checks that four disjoint children are one tree and
    one commit (not a merge each), and a fifth that changes what the third changed is merged on
    its own (a conflict)."""
    built: list[int] = []
    edit = treeedit.edit

    def counted(repo: ShadowRepo, onto: str, changes: list[Any]) -> str:
        built.append(len(changes))
        return edit(repo, onto, changes)

    monkeypatch.setattr(treeedit, "edit", counted)
    ws = tmp_path / "ws"
    ws.mkdir()
    for op in SPLIT:
        _apply(ws, op)
    repo = ShadowRepo(ws)
    base = repo.snapshot("base")
    requests = []
    ops = [
        ("put", "a/n", b"2\n"),
        ("delete", "b/y"),
        ("put", "a/x", b"3\n"),
        ("put", "c", b"2\n"),
        ("put", "a/x", b"4\n"),
    ]
    for n, op in enumerate(ops):
        tree = Worktree.create(repo, base, f"c{n}")
        _apply(tree.path, op)
        theirs = tree.snapshot("done")
        files, patch = child_changes(repo, base, theirs)
        requests.append(MergeRequest(base=base, theirs=theirs, name=f"c{n}", files=files, patch=patch))
        tree.remove()

    outcomes, current = merge_onto(repo, requests, base)

    assert [o.merged for o in outcomes] == [True, True, True, True, False]
    assert built == [4]
    assert current is not None and "merged c0, c1, c2, c3" in repo.git.run(
        "log", "-1", "--format=%s", current
    )
    assert _state(ws) == {
        "a": ("folder",),
        "a/n": ("file", False, b"2\n"),
        "a/x": ("file", False, b"3\n"),
        "c": ("file", False, b"2\n"),
    }
