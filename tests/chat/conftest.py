"""Fixtures of the chat tests that drive `subagent chat` in a real terminal (tmux)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.tmux_term import TmuxTerminal
from tests.conftest import subagent_argv, subprocess_env

_PASSED = ("PYTHONPATH", "SUBAGENT_HOME", "XDG_CONFIG_HOME", "PATH", "HOME")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def chat(tmp_path: Path, workspace: Path) -> Iterator[object]:
    """`chat(script_text, *args)` starts `subagent chat` in a terminal; all are closed at the end."""
    terminals: list[TmuxTerminal] = []

    def start(script: str, *args: str) -> TmuxTerminal:
        path = tmp_path / f"script{len(terminals)}.yaml"
        path.write_text(textwrap.dedent(script))
        env = {k: v for k, v in subprocess_env().items() if k in _PASSED}
        env["LANG"] = "C.UTF-8"
        argv = subagent_argv("chat", "--script", str(path), "--cwd", str(workspace), *args)
        terminal = TmuxTerminal(argv, env, workspace)
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()
