"""The merge's write of the workspace (`agent.orchestrator.materialise.write`): 8 children with a
few files each, and one child changing 2,000 files; then the whole merge (`merge_onto`: a fresh
snapshot, `git merge-tree`, the write) of the same children.

Reference, measured in the same run on the same changes: `git checkout-index --all --force` of
an index holding just the written entries, which is how the merge wrote before it opened each
folder without following a link (for the whole merge: the same merge with that write in place of
the merge's own). Each round writes the children's side, then the base's side back (both timed:
each is one merge's write), the steps interleaved round by round so that load from elsewhere
weighs on every side alike. Figures are medians of CPU time (user and system, git's included) in
milliseconds: wall time, under the load of a shared machine, moved the ratio from 0.5 to 2 and
back between runs of the same code.

    /work/venv/bin/python bench/bench_merge_write.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.orchestrator import materialise
from agent.orchestrator._git import run_git
from agent.orchestrator.materialise import Change
from agent.orchestrator.merge import MergeRequest, child_changes, merge_onto
from agent.orchestrator.worktree import Worktree
from agent.sessions.checkpoints import ShadowRepo
from bench._figures import emit

_FOLDERS, _PER_FOLDER = 20, 100


def _workspace(root: Path) -> tuple[ShadowRepo, str]:
    ws = root / "ws"
    for folder in range(_FOLDERS):
        (ws / f"pkg{folder}").mkdir(parents=True)
        for number in range(_PER_FOLDER):
            (ws / f"pkg{folder}" / f"mod{number}.py").write_text(f"value = {number}\n" * 40)
    repo = ShadowRepo(ws)
    return repo, repo.snapshot("base")


def _child(repo: ShadowRepo, base: str, name: str, paths: list[str]) -> str:
    """A child's snapshot changing `paths` (and adding one file per folder it touched)."""
    child = Worktree.create(repo, base, name)
    for rel in paths:
        path = child.path / rel
        path.write_text(path.read_text() + f"# {name}\n")
        (path.parent / f"{name}.py").write_text(f"# added by {name}\n")
    theirs = child.snapshot(f"{name} done")
    child.remove()
    return theirs


def _checkout_index(repo: ShadowRepo, changes: list[Change]) -> None:
    """The reference: git's checkout of the written entries (deletions are not in these cases)."""
    entries = b"".join(f"{c.new_mode} {c.new_sha}\t".encode() + os.fsencode(c.path) + b"\0" for c in changes)
    with tempfile.TemporaryDirectory(dir=repo.git_dir) as scratch:
        index = repo.git.target.at(repo.workspace, Path(scratch) / "index")
        run_git(index, "update-index", "-z", "--index-info", stdin=entries)
        run_git(index, "checkout-index", "--all", "--force")


def _cpu() -> float:
    """CPU seconds so far, user and system, of this process and of its finished children (git): on
    a machine whose disk and cores others share, wall time swings two-fold either way run to run."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _case(repo: ShadowRepo, base: str, result: str, rounds: int) -> tuple[float, float]:
    """Median time of the merge's write and of the reference, there and back, for one result."""
    forward = materialise.tree_changes(repo, repo.tree(base), repo.tree(result))
    back = materialise.tree_changes(repo, repo.tree(result), repo.tree(base))
    assert all(c.new_mode != "000000" for c in forward), "the cases only write files"
    ours: list[float] = []
    git: list[float] = []
    for _ in range(rounds):
        for samples, write in ((ours, materialise.write), (git, _checkout_index)):
            for changes in (forward, [c for c in back if c.new_mode != "000000"]):
                started = _cpu()
                write(repo, changes)
                samples.append(_cpu() - started)
            materialise.write(repo, [c for c in back if c.new_mode == "000000"])  # the added files go
    return _median_ms(ours), _median_ms(git)


def _whole(repo: ShadowRepo, base: str, children: list[str], rounds: int) -> tuple[float, float]:
    """Median time of `merge_onto` of `children` onto a fresh snapshot, with the merge's write and
    with git's checkout in its place; the workspace is put back to `base` after each."""
    requests = []
    for number, theirs in enumerate(children):
        files, patch = child_changes(repo, base, theirs)
        requests.append(MergeRequest(base=base, theirs=theirs, name=f"c{number}", files=files, patch=patch))
    own = materialise.write
    ours: list[float] = []
    git: list[float] = []
    for _ in range(rounds):
        for samples, write in ((ours, own), (git, _checkout_index)):
            materialise.write = write  # merge_onto calls it through the module
            started = _cpu()
            outcomes, current = merge_onto(repo, requests, None)
            samples.append(_cpu() - started)
            materialise.write = own
            assert current is not None and all(o.merged and not o.refused for o in outcomes), outcomes
            own(repo, materialise.tree_changes(repo, repo.tree(current), repo.tree(base)))
    return _median_ms(ours), _median_ms(git)


def _merged(repo: ShadowRepo, base: str, children: list[str]) -> str:
    """The commit of every child's work merged (what `merge_onto` would write)."""
    current = base
    for theirs in children:
        tree = (
            run_git(repo.git.target, "merge-tree", "--write-tree", current, theirs).stdout.decode().split()[0]
        )
        current = (
            run_git(repo.git.target, "commit-tree", tree, "-p", current, "-m", "m").stdout.decode().strip()
        )
    return current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        repo, base = _workspace(Path(scratch))
        big = [f"pkg{f}/mod{k}.py" for f in range(_FOLDERS) for k in range(_PER_FOLDER)]
        cases: list[tuple[str, Callable[[], list[str]]]] = [
            (
                "8 children x 4 files",
                lambda: [
                    _child(repo, base, f"c{n}", [f"pkg{n}/mod{k}.py" for k in range(4)]) for n in range(8)
                ],
            ),
            ("1 child x 2,000 files", lambda: [_child(repo, base, "big", big)]),
        ]
        for name, make in cases:
            children = make()
            ours, git = _case(repo, base, _merged(repo, base, children), args.rounds)
            emit(
                f"merge write, {name}",
                ours,
                git,
                unit="ms",
                reference_name="git checkout-index of the same entries",
                aim="<= 1.5",
            )
            ours, git = _whole(repo, base, children, args.rounds)
            emit(
                f"whole merge, {name}",
                ours,
                git,
                unit="ms",
                reference_name="the same merge writing with git checkout-index",
                aim="<= 1.5",
            )


if __name__ == "__main__":
    main()
