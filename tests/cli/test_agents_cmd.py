"""`subagent agents list|show`, `doctor` and `--version`, run as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_subagent, subprocess_env


def test_show_backend_engineer_json() -> None:
    result = run_subagent("agents", "show", "backend-engineer", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["mode"] == "subagent"
    assert data["temperature"] == 0.3
    assert data["tools"] == ["read", "edit", "write", "grep", "glob", "bash", "patch"]
    text = (REPO_ROOT / "prompts" / "backend-engineer.md").read_text(encoding="utf-8")
    assert data["prompt"] == text.split("\n---\n", 1)[1]
    assert data["prompt_length"] == len(data["prompt"])
    assert data["resolved_model"].startswith("claude-")


def test_show_table_and_unknown_agent() -> None:
    shown = run_subagent("agents", "show", "explore", COLUMNS="200")
    assert shown.returncode == 0, shown.stderr
    assert "read, grep, glob" in shown.stdout
    assert "bash * -> deny" in shown.stdout
    missing = run_subagent("agents", "show", "nobody")
    assert missing.returncode == 2
    assert "unknown agent 'nobody'" in missing.stderr and "orchestrator" in missing.stderr


def test_list_workspace_agents_with_sources_and_errors(tmp_path: Path) -> None:
    claude = tmp_path / ".claude/agents/x.md"
    claude.parent.mkdir(parents=True)
    claude.write_text("---\nname: x\ndescription: claude agent\ntools: Read, Grep\n---\nX\n")
    opencode = tmp_path / ".opencode/agent/y.md"
    opencode.parent.mkdir(parents=True)
    opencode.write_text("---\ndescription: opencode agent\nmode: subagent\n---\nY\n")
    broken = tmp_path / ".opencode/agent/broken.md"
    broken.write_text("---\nmode: subagent\n")

    listed = run_subagent("agents", "list", "--cwd", str(tmp_path), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["x"]["source"] == str(claude) and rows["x"]["dialect"] == "claude"
    assert rows["y"]["source"] == str(opencode) and rows["y"]["mode"] == "subagent"
    assert {"orchestrator", "backend-engineer", "explore"} <= set(rows)
    assert "broken" not in rows
    assert f"{broken}:1: frontmatter opened with `---` is never closed" in listed.stderr

    table = run_subagent("agents", "list", "--cwd", str(tmp_path), COLUMNS="250")
    assert table.returncode == 0, table.stderr
    for text in (".claude/agents/x.md", ".opencode/agent/y.md", "claude agent", "error"):
        assert text in table.stdout
    assert f"{broken}:1:" in table.stdout.replace("\n", "")


def imported_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("import time:")]
    assert lines, "python -X importtime printed nothing"
    return {ln.rsplit("|", 1)[1].strip() for ln in lines}


@pytest.mark.parametrize("args", [("--version",), ("agents", "list", "--json")])
def test_cheap_commands_do_not_import_anthropic(args: tuple[str, ...]) -> None:
    modules = imported_modules(*args)
    assert "agent.cli.main" in modules  # the measurement saw our own imports
    assert not {m for m in modules if m.split(".")[0] in ("anthropic", "mcp", "acp")}


def test_doctor_reports_each_check_and_exit_code() -> None:
    without = run_subagent("doctor", "--json")  # conftest removed the API key
    checks = {c["name"]: c for c in json.loads(without.stdout)}
    assert {"python", "bubblewrap", "ripgrep", "git", "api key", "leftovers"} <= set(checks)  # + the policy
    assert checks["leftovers"] == {
        "name": "leftovers",
        "ok": True,
        "fix": "",
        "detail": "nothing left behind by killed runs",
    }
    assert checks["api key"]["ok"] is False and "ANTHROPIC_API_KEY" in checks["api key"]["fix"]
    assert without.returncode == 1
    secret = "sk-ant-test-not-a-real-key"
    with_key = run_subagent("doctor", "--json", ANTHROPIC_API_KEY=secret)
    assert secret not in with_key.stdout + with_key.stderr
    checks = {c["name"]: c for c in json.loads(with_key.stdout)}
    assert checks["api key"]["ok"] is True
    assert with_key.returncode == (0 if all(c["ok"] for c in checks.values()) else 1)


def test_show_resolves_the_model_as_a_run_would(tmp_path: Path) -> None:
    agents = tmp_path / ".claude/agents"
    agents.mkdir(parents=True)
    (agents / "heir.md").write_text("---\nname: heir\ndescription: inherits\nmodel: inherit\n---\nH\n")
    (agents / "other.md").write_text("---\nname: other\ndescription: o\nmodel: openai/gpt-5\n---\nO\n")
    heir = run_subagent("agents", "show", "heir", "--cwd", str(tmp_path), "--json")
    assert heir.returncode == 0, heir.stderr
    assert json.loads(heir.stdout)["resolved_model"] == "claude-sonnet-5-5"  # the default model
    other = run_subagent("agents", "show", "other", "--cwd", str(tmp_path), "--json")
    assert other.returncode == 2 and "only Anthropic models are supported" in other.stderr
