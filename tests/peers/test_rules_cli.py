"""`subagent agents show NAME --rules`: the effective rules, with the file and line of each."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_subagent

SETTINGS = json.dumps({"permissions": {"allow": ["Bash(make:*)"], "deny": ["Bash(rm:*)"]}}, indent=2)
PERSONA = (
    "---\nname: fixer\ntools: Read, Bash, WebSearch\npermission:\n  bash:\n    'git push *': ask\n---\nfix\n"
)


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".claude/agents").mkdir(parents=True)
    (ws / ".claude/settings.json").write_text(SETTINGS)
    (ws / ".claude/agents/fixer.md").write_text(PERSONA)
    return ws


def test_rules_name_their_file_and_line_and_refusals_are_listed(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    shown = run_subagent("agents", "show", "fixer", "--rules", "--json", "--cwd", str(ws))
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    origin = {(r["permission"], r["pattern"], r["decision"]): r["from"] for r in rows}
    assert origin[("bash", "rm *", "deny")] == f"{ws}/.claude/settings.json:7"
    assert origin[("bash", "git push *", "ask")] == f"{ws}/.claude/agents/fixer.md:6"
    assert origin[("read", "*", "allow")] == "default"
    assert ("bash", "make *", "allow") not in origin  # untrusted: the allow is refused ...
    text = run_subagent("agents", "show", "fixer", "--rules", "--cwd", str(ws))
    assert "permission.bash.make *: refused (" in text.stderr  # ... and says so
    assert "fixer.md: tool 'WebSearch' is not in subagent, so it is left out; use " in text.stderr
    assert "deny   bash  rm *  (" in text.stdout


def test_opencode_rules_and_an_agent_block_name_their_lines_in_opencode_json(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".opencode/agent").mkdir(parents=True)
    (ws / ".opencode/agent/builder.md").write_text(
        "---\nmode: primary\ntools:\n  webfetch: true\n---\nbuild\n"
    )
    config = {
        "permission": {"bash": {"rm *": "deny"}},
        "agent": {"builder": {"permission": {"bash": {"git push *": "deny"}}}},
    }
    (ws / "opencode.json").write_text(json.dumps(config, indent=2))
    shown = run_subagent("agents", "show", "builder", "--rules", "--json", "--cwd", str(ws))
    assert shown.returncode == 0, shown.stderr
    origin = {(r["permission"], r["pattern"], r["decision"]): r["from"] for r in json.loads(shown.stdout)}
    assert origin[("bash", "rm *", "deny")] == f"{ws}/opencode.json:4"
    assert origin[("bash", "git push *", "deny")] == f"{ws}/opencode.json:11"
