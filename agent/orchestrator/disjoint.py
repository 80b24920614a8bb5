"""Children whose changes meet nothing else that changed: merged together, as one tree.

A three-way merge of a child (base B, its snapshot T) onto the workspace's commit C gives C plus
the child's own changes from B to T when the two sides do not meet: no path changed on both (C's
side being what changed from B to C: the parent's work, the children merged before), no path of
one side inside a folder that the other side made a file (or the other way round), and no path
one side added inside a folder the other side deleted from (git's directory-rename detection
could move it). Such children are merged by applying their changes to C's tree (`treeedit`):
one tree, one commit and one write of the workspace for all of them, where a merge per child
costs a `merge-tree` and a `commit-tree` each. What meets something takes the merge per child.

`Since` keeps, for each base, the changes from it to the commit merged onto so far, in memory as
children are applied (their changes are exactly what the result adds), read again from git only
after a merge per child. tests/orchestrator/test_merge_together.py checks, on random children,
that the result is what merging them one by one gives.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from agent.orchestrator._git import run_git
from agent.orchestrator.materialise import Change
from agent.sessions.checkpoints import ShadowRepo

Changes = dict[str, Change]
"""One side's changes, by path."""


def folders_of(path: str) -> Iterator[str]:
    """The folders `path` is in, nearest first ("a/b/c" gives "a/b", then "a")."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def meet(one: Changes, other: Changes) -> bool:
    """Whether two sides' changes from one base meet (see the module docstring)."""
    if len(one) > len(other):
        one, other = other, one
    if any(path in other for path in one):
        return True
    for a, b in ((one, other), (other, one)):
        if any(folder in b for path in a for folder in folders_of(path)):
            return True  # a file of one side is a folder on the other
        emptied = {folder for path, change in a.items() if change.gone for folder in folders_of(path)}
        if emptied and any(
            folder in emptied for path, c in b.items() if c.added for folder in folders_of(path)
        ):
            return True  # added where the other side deleted: a directory rename could move it
    return False


def read_changes(repo: ShadowRepo, pairs: list[tuple[str, str]]) -> list[Changes]:
    """The changes from `old` to `new` of each (old, new) pair of commits, in one git process.

    `git diff-tree --stdin` reads "NEW OLD" lines (a commit and its parent) and prints each
    non-empty diff after NEW's id; every NEW must differ from the others (and from the ids of
    nothing else), so that each id names its line."""
    news = [new for _old, new in pairs]
    assert len(set(news)) == len(news), "each pair's new commit names its diff"
    lines = "".join(f"{new} {old}\n" for old, new in pairs).encode()
    out = run_git(repo.git.target, "diff-tree", "--stdin", "-r", "-z", "--no-renames", stdin=lines).stdout
    found: dict[str, Changes] = {}
    current: Changes = {}
    fields = iter(os.fsdecode(f) for f in out.split(b"\0") if f)
    for field in fields:
        if not field.startswith(":"):  # the next pair's header: its NEW commit
            current = found.setdefault(field.strip(), {})
            continue
        old_mode, new_mode, old_sha, new_sha, _status = field[1:].split()
        path = next(fields)
        current[path] = Change(path, old_mode, old_sha, new_mode, new_sha)
    return [found.get(new, {}) for new in news]


class Since:
    """For each base commit, the changes from it to the commit being merged onto."""

    def __init__(self, by_base: dict[str, Changes]) -> None:
        self.by_base = by_base

    def of(self, base: str) -> Changes:
        return self.by_base[base]

    def apply(self, changes: Iterable[Change]) -> None:
        """The commit merged onto moved by `changes` (each from its old side to its new)."""
        for change in changes:
            for since in self.by_base.values():
                before = since.get(change.path)
                if before is None:
                    since[change.path] = change
                elif (before.old_mode, before.old_sha) == (change.new_mode, change.new_sha):
                    del since[change.path]  # back to what the base had
                else:
                    since[change.path] = Change(
                        change.path, before.old_mode, before.old_sha, change.new_mode, change.new_sha
                    )
