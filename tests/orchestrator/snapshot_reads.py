"""A child's tree snapshotted three times, for a test to count the files git opens in each.

    python -m tests.orchestrator.snapshot_reads KIND SCRATCH     (KIND: checkout or reflink)

Makes a workspace of 200 files under SCRATCH, its snapshot, and a tree of KIND (a reflinked tree
needs SCRATCH on a file system with reflinks); waits into the next second (a child's first edit
comes a model turn after its tree is made), then snapshots it unchanged twice, edits one file in
place and snapshots once more. Before each snapshot it opens `/.snapshot-reads-start-N` and after
it `/.snapshot-reads-end` (neither exists): markers for `strace -e trace=openat`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

FILES = 200


def _mark(name: str) -> None:
    with contextlib.suppress(OSError):
        open(f"/.snapshot-reads-{name}").close()


def main(kind: str, scratch: Path) -> None:
    os.environ["SUBAGENT_HOME"] = str(scratch / "data")
    from agent.orchestrator import bases, reflink
    from agent.orchestrator.worktree import Worktree
    from agent.sessions.checkpoints import ShadowRepo

    ws = scratch / "ws"
    for n in range(FILES):
        folder = ws / f"pkg{n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n}.txt").write_text(f"file {n}\n")
    repo = ShadowRepo(ws)
    commit = repo.snapshot("before")
    if kind == "reflink":
        bases.prepare(repo, commit)
        time.sleep(1.1)  # the base was built earlier than the tree, as in a run
        tree = Worktree.reserve(repo, commit, "reads", "reflink")
        reflink.populate(tree, bases.acquire(repo, commit))
    else:
        tree = Worktree.create(repo, commit, "reads")
    time.sleep(1.1)
    try:
        for n in range(3):
            if n == 2:
                (tree.path / "pkg1" / "f1.txt").write_text("file X\n")  # the same size, in place
            _mark(f"start-{n}")
            tree.snapshot(f"snapshot {n}")
            _mark("end")
    finally:
        tree.remove()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
