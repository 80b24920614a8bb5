"""`subagent mcp-servers list|approve`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_subagent
from tests.mcpclient._fixtures import git_workspace, stdio_entry, write_mcp_json


def test_list_says_where_each_server_comes_from_its_status_and_tools(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    repo_marker, user_marker = tmp_path / "repo", tmp_path / "user"
    write_mcp_json(ws, {"repo": stdio_entry(repo_marker)})
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcp_servers": {"mine": stdio_entry(user_marker)}}))

    proc = run_subagent("mcp-servers", "list", "--json", "--cwd", str(ws))
    assert proc.returncode == 0, proc.stderr
    listed = {s["name"]: s for s in json.loads(proc.stdout)["servers"]}
    assert listed["mine"]["status"] == "starts" and listed["mine"]["scope"] == "user"
    assert "mcp__mine__echo" in listed["mine"]["tools"]
    assert listed["repo"]["status"] == "skipped" and "not trusted" in listed["repo"]["why"]
    assert listed["repo"]["source"] == str(ws / ".mcp.json")
    assert user_marker.exists() and not repo_marker.exists()  # listing never starts a skipped server

    text = run_subagent("mcp-servers", "list", "--cwd", str(ws))
    assert "repo  [workspace]" in text.stdout and "mcp-servers approve repo" in text.stdout


def test_approve_names_what_it_approves_and_refuses_unknown_names(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    write_mcp_json(ws, {"repo": stdio_entry(tmp_path / "m")})
    unknown = run_subagent("mcp-servers", "approve", "nope", "--cwd", str(ws))
    assert (
        unknown.returncode == 2
        and "defines no MCP server `nope`" in unknown.stderr
        and "repo" in unknown.stderr
    )
    ok = run_subagent("mcp-servers", "approve", "repo", "--cwd", str(ws))
    assert ok.returncode == 0 and "mcp_test_server.py" in ok.stdout
    listed = json.loads(run_subagent("mcp-servers", "list", "--json", "--no-tools", "--cwd", str(ws)).stdout)
    assert listed["servers"][0]["status"] == "starts"


def test_doctor_starts_each_server_and_names_one_that_fails(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "subagent" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    broken = {"command": "sh", "args": ["-c", "echo no database here >&2; exit 1"]}
    config.write_text(json.dumps({"mcp_servers": {"good": stdio_entry(tmp_path / "m"), "bad": broken}}))
    proc = run_subagent("doctor", "--json", cwd=ws)
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert checks["mcp good"]["ok"] and "8 tools" in checks["mcp good"]["detail"]
    assert not checks["mcp bad"]["ok"] and "no database here" in checks["mcp bad"]["detail"]
    assert proc.returncode == 1
