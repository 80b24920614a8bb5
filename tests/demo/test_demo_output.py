"""`subagent demo` prints only text a terminal shows as it is, even from a hostile folder name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_subagent
from tests.terminal.test_safe_text import is_unsafe_for_a_terminal


@pytest.mark.slow
def test_the_demo_output_holds_no_raw_control_character(tmp_path: Path) -> None:
    target = tmp_path / "demo\x1b]0;PWNED\x07\x1b[2J"
    done = run_subagent("demo", "--fast", "--workdir", str(target), timeout=240, COLUMNS="1000")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "\x1b]0;PWNED" in str(target)  # the control: the folder's name is a real escape sequence
    assert not [c for c in done.stdout + done.stderr if is_unsafe_for_a_terminal(c)]
    assert f"workspace kept at {tmp_path}/demo\\x1b]0;PWNED\\x07\\x1b[2J" in done.stdout
    assert "tests on the merged tree" in done.stdout and "def do_POST" in done.stdout  # the diff
