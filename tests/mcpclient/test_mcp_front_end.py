"""An orchestrator over MCP (`subagent mcp` run_task) whose agent uses the user's MCP server: the
runtime is an MCP server and an MCP client in one run."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from agent.sessions.store import SqliteSessionStore
from agent.transcript import ToolResultBlock
from tests.conftest import subprocess_env
from tests.mcpclient._fixtures import git_workspace, script, stdio_entry, via_doors

pytestmark = pytest.mark.slow


async def test_run_task_uses_the_users_server(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {"t": stdio_entry(marker)}}))
    calls = script(
        tmp_path / "s.yaml", [[via_doors({"name": "mcp__t__echo", "input": {"text": "via mcp"}})]], final="ok"
    )
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "mcp", "--script", str(calls)],
        env=subprocess_env(), cwd=str(ws),
    )  # fmt: skip
    async with Client(params) as client:
        done = await client.call_tool(
            "run_task", {"prompt": "echo it", "cwd": str(ws), "permission_mode": "bypass"}
        )
    assert not done.is_error, done.content
    result = done.structured_content
    assert result["status"] == "success" and result["result"] == "ok"
    assert marker.exists()
    messages = SqliteSessionStore().messages_for_resume(result["session_id"]).messages
    answers = [b for m in messages if m.role == "user" for b in m.content if isinstance(b, ToolResultBlock)]
    assert any(b.content == "echo: via mcp" for b in answers)
