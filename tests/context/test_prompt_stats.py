"""`subagent agents show NAME --prompt-stats`: the bytes of each part of an agent's first request."""

from __future__ import annotations

import json
from pathlib import Path

from agent.context.prompt_stats import prompt_stats
from agent.registry.discovery import load_registry_for
from tests.conftest import run_subagent
from tools.registry import load_tools


def test_the_parts_add_up_to_the_first_request(tmp_path: Path) -> None:
    spec = load_registry_for(tmp_path).get("backend-engineer")
    tools = load_tools(list(spec.tools))
    stats = prompt_stats(spec, tools, "<env>x</env>", prompt="hello")
    assert set(stats.tool_bytes) == {"read", "edit", "write", "grep", "glob", "bash", "patch"}
    assert stats.persona_bytes == len(spec.prompt.strip().encode())
    assert stats.system_bytes > stats.persona_bytes + stats.env_bytes
    assert stats.tools_bytes >= sum(stats.tool_bytes.values())
    assert (
        stats.system_bytes + stats.tools_bytes
        < stats.total_bytes
        < stats.system_bytes + stats.tools_bytes + 400
    )
    # Lean: well under opencode's 30 KB first request (Claude Code sends about 76 KB).
    assert stats.total_bytes < 15_000


def test_the_cli_prints_them_as_json(tmp_path: Path) -> None:
    proc = run_subagent(
        "agents", "show", "backend-engineer", "--prompt-stats", "--json", "--cwd", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["agent"] == "backend-engineer" and data["tool_bytes"]["read"] > 0
    assert str(tmp_path.resolve()) in json.dumps(data) or data["env_bytes"] > len(str(tmp_path))
    table = run_subagent("agents", "show", "backend-engineer", "--prompt-stats", "--cwd", str(tmp_path))
    assert "first request" in table.stdout and "tool grep" in table.stdout


def test_project_instructions_are_counted_apart(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("Run the tests with make test.\n")
    proc = run_subagent(
        "agents", "show", "backend-engineer", "--prompt-stats", "--json", "--cwd", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["instructions_bytes"] >= len("Run the tests with make test.")
    assert data["system_bytes"] > data["persona_bytes"] + data["instructions_bytes"] + data["env_bytes"]
