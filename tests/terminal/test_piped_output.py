"""What `subagent run` prints when its output is not a terminal (a pipe, a file, a CI log).

A scripted run in a real subprocess, its stdout a pipe, compared byte for byte with
golden/piped_run.txt (recorded before the console was made at the first print, issue 18): the
renderer may change when rich is loaded, never what it writes. Only what differs between two runs
is replaced: the workspace's path, durations, and the lines of notices that depend on the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import subagent_argv, subprocess_env

GOLDEN = Path(__file__).parent / "golden"
_DURATION = re.compile(r"\b\d+\.\ds\b")
_TERMINAL_ENV = ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM")
"""What rich reads to size and colour its output: the default (80 columns, no colour) is compared."""


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A workspace with a short path of fixed length: the summary names files by absolute path, and
    rich wraps a line at 80 columns before the path is replaced."""
    folder = Path(tempfile.mkdtemp(prefix="w", dir="/tmp"))
    try:
        (folder / "app.py").write_text("def f():\n    return 1\n")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _normalised(text: str, workspace: Path) -> str:
    lines = [line for line in text.split("\n") if not line.startswith("⚠ ")]
    return _DURATION.sub("N.Ns", "\n".join(lines).replace(str(workspace), "<workspace>"))


def test_a_piped_run_prints_what_it_printed_before(workspace: Path) -> None:
    argv = subagent_argv(
        "run", "change f", "--script", str(GOLDEN / "piped_run.yaml"), "--cwd", str(workspace),
        "--agent", "backend-engineer", "--permission-mode", "accept-edits",
    )  # fmt: skip
    env = {k: v for k, v in subprocess_env().items() if k not in _TERMINAL_ENV}
    proc = subprocess.run(
        argv, cwd=workspace, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120
    )
    assert proc.returncode == 3, proc.stderr.decode(errors="replace")[-2000:]  # the bash call was denied
    out = _normalised(proc.stdout.decode("utf-8"), workspace)
    assert out == (GOLDEN / "piped_run.txt").read_text(encoding="utf-8")
