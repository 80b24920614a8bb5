"""Each server's own start timeout (opencode's `timeout`), with real servers slow to start or to
list their tools: the error names the server and the limit, and a server without one keeps the
30 s default."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agent.errors import McpServerError
from agent.mcpclient.config import ServerDef, StdioServer
from agent.mcpclient.hub import McpHub
from agent.mcpclient.sources import ServerPlan
from tests.conftest import run_subagent
from tests.mcpclient._fixtures import SERVER, git_workspace


def _opencode_entry(marker: Path, **env: str) -> dict[str, object]:
    return {
        "type": "local",
        "command": [sys.executable, str(SERVER)],
        "environment": {"MARKER": str(marker), **env},
    }


def test_opencode_timeout_bounds_that_servers_start_only(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    servers = {
        "quick": {**_opencode_entry(tmp_path / "q", START_DELAY="4"), "timeout": 1000},
        "patient": _opencode_entry(tmp_path / "p", START_DELAY="4"),  # no timeout: the 30 s default
    }
    (ws / "opencode.json").write_text(json.dumps({"mcp": servers}))
    for name in servers:
        assert run_subagent("mcp-servers", "approve", name, "--cwd", str(ws)).returncode == 0

    proc = run_subagent("mcp-servers", "list", "--json", "--cwd", str(ws))
    assert proc.returncode == 0, proc.stderr
    listed = {s["name"]: s for s in json.loads(proc.stdout)["servers"]}
    assert listed["quick"]["status"] == "failed" and listed["quick"]["why"] == "did not start within 1 s"
    assert listed["patient"]["status"] == "starts" and "mcp__patient__echo" in listed["patient"]["tools"]
    assert (tmp_path / "q").exists()  # it was started, and stopped at its limit


async def test_the_start_timeout_also_bounds_the_listing_and_the_error_names_both(tmp_path: Path) -> None:
    entry = {"command": sys.executable, "args": [str(SERVER)], "env": {"LIST_DELAY": "60"}}
    slow = ServerDef(name="lister", transport=StdioServer(**entry), source="test", scope="user",
                     start_timeout_s=8)  # fmt: skip
    hub = McpHub(ServerPlan(tmp_path, usable=[slow]), log_dir=tmp_path)
    try:
        with pytest.raises(McpServerError) as caught:
            await hub.listed("lister")
    finally:
        await hub.close()
    assert str(caught.value) == "MCP server 'lister': did not list its tools within 8 s"
