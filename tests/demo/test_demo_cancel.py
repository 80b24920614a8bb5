"""Ctrl-C in `subagent demo` ends it as in `subagent run`: the summary, a stored cancel, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from agent.sessions.store import SqliteSessionStore
from tests.conftest import subagent_argv, subprocess_env

pytestmark = pytest.mark.slow


def _wait_for_subagents(workspace: Path, proc: subprocess.Popen[str], wait_s: float = 120) -> str:
    """The demo's session once its subagents started (the run is under way, not yet done)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the demo ended before it could be interrupted"
        if workspace.is_dir():
            store = SqliteSessionStore()
            try:
                record = store.latest(workspace.resolve())
                if record is not None and len(store.session_tree(record.id)) > 1:
                    return record.id
            finally:
                store.close()
        time.sleep(0.05)
    raise AssertionError(f"no subagent session in {workspace} within {wait_s} s")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_during_the_demo_shows_the_summary_and_stores_the_cancel(tmp_path: Path, signum: int) -> None:
    workspace = tmp_path / "demo"
    proc = subprocess.Popen(
        subagent_argv("demo", "--workdir", str(workspace)),  # not --fast: the replies take a while
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(COLUMNS="200"),
    )
    try:
        session_id = _wait_for_subagents(workspace, proc)
        os.kill(proc.pid, signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, out[-3000:] + err[-3000:]  # `subagent run`'s code for a cancel
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "── cancelled ──" in out, out[-3000:]  # the run's summary, as `subagent run` prints it
    assert "tests on the merged tree" not in out  # nothing goes on after the stop
    assert f"workspace kept at {workspace}" in out
    store = SqliteSessionStore()
    try:
        assert store.get(session_id).status == "cancelled"
    finally:
        store.close()
