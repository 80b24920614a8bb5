"""A checkout's or a reflinked tree's snapshots read only what the child changed.

They use git's own change list: the index's stat data against the files'. Files written in the
same second as their index are "racily clean" to git, which reads them again at every look until
an index written in a later second records them: a checkout writes nearly all of its files in
the second of its index, so a child that changed nothing had most of its tree read at every
snapshot. The refresh in `Worktree.snapshot` makes that once; a reflinked tree's index is written
with the copies' own stat data (`gitindex`), so it needs nothing read at all. Counted with strace:
the tree's files git opens during each snapshot (`snapshot_reads`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import subprocess_env


def _opened_per_snapshot(kind: str, scratch: Path) -> list[set[str]]:
    if shutil.which("strace") is None:
        if os.environ.get("SUBAGENT_REQUIRE_SANDBOX"):
            pytest.fail("strace is not installed (apt-get install strace): CI needs this test")
        pytest.skip("strace is not installed (apt-get install strace)")
    trace = scratch / "trace.txt"
    argv = ["python", "-m", "tests.orchestrator.snapshot_reads", kind, str(scratch)]
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=openat", "-o", str(trace), *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    opened: list[set[str]] = []
    inside = False
    for line in trace.read_text().splitlines():
        if "/.snapshot-reads-start-" in line:
            inside = True
            opened.append(set())
        elif "/.snapshot-reads-end" in line:
            inside = False
        elif (
            inside and (found := re.search(r'"(?:[^"]*/)?(pkg\d/f\d+\.txt)"', line)) and "ENOENT" not in line
        ):
            opened[-1].add(found.group(1))
    assert len(opened) == 3, "the driver's markers are missing from the trace"
    return opened


def test_a_checkout_is_read_at_most_once_and_then_only_what_changed(tmp_path: Path) -> None:
    first, unchanged, edited = _opened_per_snapshot("checkout", tmp_path)

    assert unchanged == set()  # nothing changed, nothing read (was: the racily clean files, again)
    assert edited == {"pkg1/f1.txt"}
    assert first <= {f"pkg{n % 5}/f{n}.txt" for n in range(200)}  # the racily clean ones, once


def test_a_reflinked_tree_is_never_read_but_what_changed(reflink_home: Path) -> None:
    scratch = reflink_home / "reads"
    scratch.mkdir()

    first, unchanged, edited = _opened_per_snapshot("reflink", scratch)

    assert first == set() and unchanged == set()
    assert edited == {"pkg1/f1.txt"}
