"""`subagent doctor`'s list of config files: what was read, what of it does not apply, and why."""

from __future__ import annotations

import json
from pathlib import Path

from agent.registry.config_report import config_report
from agent.registry.discovery import load_registry_for
from tests.conftest import run_subagent


def test_every_file_read_and_every_part_not_applied_is_listed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".claude/commands").mkdir(parents=True)
    (ws / ".claude/commands/review.md").write_text("review")
    (ws / ".mcp.json").write_text("{}")
    (ws / ".opencode/plugin").mkdir(parents=True)
    (ws / "opencode.json").write_text(
        json.dumps({"theme": "dark", "permission": {"edit": "deny"}, "mcp": {}})
    )
    settings = ws / ".claude/settings.json"
    settings.write_text(
        json.dumps({"permissions": {"allow": ["Bash(make:*)"], "deny": ["WebSearch"]}, "env": {}})
    )
    lines = config_report(load_registry_for(ws))
    assert f"read (project): {ws / 'opencode.json'}" in lines
    assert "  not applied: theme: not read by subagent" in lines
    assert f"read (project): {settings}" in lines
    assert "  not applied: permissions.deny: WebSearch: WebSearch is not a tool of subagent" in lines
    assert "  not applied: env: not read by subagent" in lines
    assert any(line.startswith("  refused: permission.bash.make * (an allow rule") for line in lines)
    assert "custom commands: /review" in lines
    assert f"read (mcp servers): {ws / '.mcp.json'}" in lines  # the MCP client reads it
    assert not any(line.startswith("  not applied: mcp") for line in lines)  # opencode's `mcp` too
    assert any(
        line.startswith(f"found, not applied: {ws / '.opencode/plugin'} (opencode's JavaScript")
        for line in lines
    )
    assert lines.index(f"read (project): {settings}") > lines.index(f"read (project): {ws / 'opencode.json'}")


def test_doctor_prints_the_report(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "opencode.json").write_text(json.dumps({"theme": "dark"}))
    done = run_subagent("doctor", "--json", cwd=ws)
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert "not applied: theme: not read by subagent" in checks["config files"]["detail"]
