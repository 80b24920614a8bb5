"""A worker killed mid-subtask leaves its attempt checkout; the next worker on the host removes it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_checkouts_of_dead_workers_on_this_host_are_removed(tmp_path: Path, temporal_sdk: None) -> None:
    from agent.orchestrator.temporal.activities import OWNER_SUFFIX, sweep_checkouts
    from agent.sessions.leftovers import recent

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    left = tmp_path / f"t1-a1-abcd.{host}.{dead.pid}"
    mine = tmp_path / f"t2-a1-efgh{OWNER_SUFFIX}"
    elsewhere = tmp_path / f"t3-a1-ijkl.other-host.{dead.pid}"
    for folder in (left, mine, elsewhere):
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "file.txt").write_text("x")
    assert OWNER_SUFFIX == f".{host}.{os.getpid()}"

    assert sweep_checkouts(tmp_path) == [left]
    assert not left.exists() and mine.exists() and elsewhere.exists()  # alive, or not provably dead here
    assert [e["path"] for e in recent() if e["kind"] == "worker checkout"] == [str(left)]
