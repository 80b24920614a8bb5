"""Shared pieces of the MCP client tests: the test server's definition, workspaces, scripted runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_subagent

SERVER = Path(__file__).resolve().parent / "mcp_test_server.py"


def stdio_entry(marker: Path, **env: str) -> dict[str, Any]:
    """A `.mcp.json` entry that starts the test server over stdio, writing `marker` when it starts."""
    return {"command": sys.executable, "args": [str(SERVER)], "env": {"MARKER": str(marker), **env}}


def git_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def write_mcp_json(workspace: Path, servers: dict[str, Any]) -> None:
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def script(path: Path, calls: list[list[dict[str, Any]]], final: str = "done") -> Path:
    """A scripted model file: one reply per list of tool calls, then `final`."""
    replies: list[dict[str, Any]] = [{"tool_calls": c} for c in calls] + [{"text": final}]
    path.write_text(yaml.safe_dump({"scripts": [{"replies": replies}]}))
    return path


def run_events(
    workspace: Path, script_file: Path, *args: str, **env: str
) -> tuple[list[dict[str, Any]], str]:
    """`subagent run --output stream-json` in `workspace`: its events, and its stderr."""
    proc = run_subagent(
        "run", "use the tools", "--script", str(script_file), "--cwd", str(workspace),
        "--output", "stream-json", *args, timeout=120, **env,
    )  # fmt: skip
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert events, f"no events; exit {proc.returncode}; stderr:\n{proc.stderr}"
    return events, proc.stderr


def results(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """tool_call_finished events by tool name (the last of each name)."""
    return {e["name"]: e for e in events if e.get("type") == "tool_call_finished"}


def via_doors(call: dict[str, Any]) -> dict[str, Any]:
    """A direct tool call made through `mcp_call`: the way to a server whose tools the run did not
    know at its start (never listed: its first run)."""
    return {"name": "mcp_call", "input": {"tool": call["name"], "arguments": call["input"]}}


def warm(workspace: Path, tmp_path: Path, *args: str, **env: str) -> None:
    """A run that waits for the servers to list their tools (`mcp_tools`), so that the next run
    knows them from the kept listing and offers them by name."""
    once = script(tmp_path / "warm.yaml", [[{"name": "mcp_tools", "input": {"query": "echo"}}]])
    events, stderr = run_events(workspace, once, *args, **env)
    found = results(events)
    assert "mcp_tools" in found and not found["mcp_tools"]["is_error"], stderr
