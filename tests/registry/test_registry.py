"""Discovery order, name clashes, registry overrides and broken files, on real folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import PersonaError, RegistryError, UnknownAgentError
from agent.paths import config_home
from agent.registry.discovery import load_registry_for
from tests.conftest import put


def test_builtin_agents_load() -> None:
    reg = load_registry_for(Path(os.environ["SUBAGENT_HOME"]))
    assert reg.errors == []
    assert set(reg.agents) == {"orchestrator", "backend-engineer", "explore"}
    assert [a.name for a in reg.primary_agents()] == ["orchestrator"]
    assert {a.name for a in reg.subagents()} == {"backend-engineer", "explore"}
    assert reg.get("explore").tools == ["read", "grep", "glob"]
    assert reg.config.aliases["sonnet"].startswith("claude-")
    with pytest.raises(UnknownAgentError, match="orchestrator"):
        reg.get("nobody")


def test_builtin_prompts_stay_lean() -> None:
    reg = load_registry_for(Path(os.environ["SUBAGENT_HOME"]))
    for name in ("orchestrator", "explore"):
        spec = reg.get(name)
        assert spec.source is not None and spec.source.stat().st_size < 4096
    assert "backend-engineer" in reg.get("orchestrator").prompt
    assert "task" in reg.get("orchestrator").prompt


def test_discovery_order_later_wins(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    put(config_home(), "agents/explore.md", "---\nmode: subagent\n---\nuser explore\n")
    put(config_home(), "agents/mine.md", "---\ndescription: user agent\n---\nmine\n")
    put(ws, ".subagent/agents/mine.md", "---\ndescription: workspace\n---\nws mine\n")
    put(ws, ".opencode/agent/team/backend.md", "---\nmode: subagent\n---\nteam\n")
    put(ws, ".opencode/agents/mine.md", "---\ndescription: opencode agents\n---\noc\n")
    put(ws, ".claude/agents/whatever.md", "---\nname: mine\ndescription: claude\n---\nclaude mine\n")
    (ws / "sub").mkdir()
    reg = load_registry_for(ws / "sub")  # the workspace is the folder holding .git
    assert reg.workspace == ws.resolve()
    assert reg.get("explore").prompt == "user explore\n"
    assert reg.get("mine").prompt == "claude mine\n"
    assert reg.get("mine").source == ws / ".claude/agents/whatever.md"
    assert reg.get("team/backend").prompt == "team\n"
    assert reg.get("backend-engineer").temperature == 0.3


def test_broken_file_is_an_error_and_the_rest_load(tmp_path: Path) -> None:
    bad = put(tmp_path, ".claude/agents/bad.md", "---\nname: bad\nmode: [\n---\n")
    put(tmp_path, ".claude/agents/good.md", "---\nname: good\n---\ngood\n")
    reg = load_registry_for(tmp_path)
    assert "good" in reg.agents and "bad" not in reg.agents
    assert len(reg.errors) == 1
    err = reg.errors[0]
    assert isinstance(err, PersonaError) and err.path == bad and err.line == 3
    with pytest.raises(PersonaError) as asked:  # asked for by name: its own reason, not "unknown"
        reg.get("bad")
    assert asked.value is err
    with pytest.raises(UnknownAgentError):
        reg.get("nobody")


def test_workspace_config_merges_and_overrides(tmp_path: Path) -> None:
    put(
        tmp_path,
        ".subagent/config.yaml",
        (
            "defaults:\n  max_turns: 9\n"
            "permission:\n  bash: ask\n"
            "agents:\n"
            "  backend-engineer:\n    model: opus\n    verify: pytest -q\n    tools: {bash: false}\n"
            "    permission: {edit: {'*.lock': deny}}\n"
            "  reviewer:\n    prompt: agents/reviewer.md\n    temperature: 0.1\n"
            "  explore:\n    disable: true\n"
        ),
    )
    put(tmp_path, ".subagent/agents/reviewer.md", "---\nmode: subagent\ntemperature: 0.9\n---\nreview\n")
    reg = load_registry_for(tmp_path, trust=True)  # `verify` is the trusted workspace's to set
    assert reg.errors == []
    assert reg.config.defaults.max_turns == 9
    assert reg.config.defaults.max_output_tokens == 16000  # kept from agents.yaml
    be = reg.get("backend-engineer")
    assert (be.model, be.verify, be.temperature) == ("opus", "pytest -q", 0.3)
    assert "bash" not in be.tools
    assert [(r.permission, r.pattern, r.decision) for r in be.permission] == [
        ("bash", "*", "ask"),
        ("bash", "*", "deny"),
        ("edit", "*.lock", "deny"),
    ]
    assert reg.get("reviewer").temperature == 0.1
    assert "explore" not in reg.agents


def test_unknown_registry_key_names_key_and_file(tmp_path: Path) -> None:
    cfg = put(tmp_path, ".subagent/config.yaml", "agents:\n  explore:\n    modle: opus\n")
    reg = load_registry_for(tmp_path)
    assert "explore" in reg.agents  # the built-ins still load
    [err] = reg.errors
    assert isinstance(err, RegistryError)
    assert err.path == cfg and err.key == "agents.explore.modle"
    assert "unknown key" in str(err)
    with pytest.raises(RegistryError):  # a run stops: the config's rules must not be dropped
        reg.get("explore")


def test_entry_without_persona_is_an_error(tmp_path: Path) -> None:
    put(tmp_path, ".subagent/config.yaml", "agents:\n  ghost:\n    model: haiku\n")
    [err] = load_registry_for(tmp_path).errors
    assert isinstance(err, RegistryError) and err.key == "agents.ghost"
