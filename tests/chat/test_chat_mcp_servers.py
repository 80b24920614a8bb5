"""`subagent chat` keeps its MCP servers across prompts and stops them when the chat ends (a real
terminal through tmux, the scripted model, the tests' MCP server as the user's)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.mcpclient._fixtures import stdio_entry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

CALL = '{name: mcp_call, input: {tool: mcp__t__echo, arguments: {text: "hi"}}}'
TWO_PROMPTS = f"""
scripts:
  - replies:
      - tool_calls: [{CALL}]
      - text: First answer.
      - tool_calls: [{CALL}]
      - text: Second answer.
"""


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except OSError:
        return False


def test_the_chats_servers_start_once_and_stop_when_it_ends(chat, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {"t": stdio_entry(marker)}}))
    term = chat(TWO_PROMPTS, "--agent", "backend-engineer", "--permission-mode", "bypass")
    term.wait_idle()
    term.type_line("echo once")
    term.wait_for("First answer.")
    term.wait_idle()
    term.type_line("echo again")
    term.wait_for("Second answer.")
    term.wait_idle()
    assert term.screen(history=True).count("✓ t: echo") == 2
    [pid] = [int(p) for p in marker.read_text().split()]  # two prompts, one server
    assert _alive(pid)  # the control: it runs between prompts
    term.send("C-d")
    deadline = time.monotonic() + 60
    while _alive(pid):
        assert time.monotonic() < deadline, "the server outlived the chat"
        time.sleep(0.1)
