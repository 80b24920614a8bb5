"""Claude Code's and opencode's permission files as our rules, and where they stand among the layers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.errors import RegistryError
from agent.peers.claude_rules import translate_rule
from agent.permissions.rules import decide
from agent.registry.discovery import load_registry_for
from tests.conftest import put


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws/.git").mkdir(parents=True)
    return (tmp_path / "ws").resolve()


def _settings(ws: Path, rel: str = ".claude/settings.json", **permissions: object) -> Path:
    return put(ws, rel, json.dumps({"permissions": permissions}, indent=2))


@pytest.mark.parametrize(
    ("rule", "pairs"),
    [
        ("Bash", [("bash", "*")]),
        ("Bash(rm:*)", [("bash", "rm *")]),
        ("Bash(npm run test:*)", [("bash", "npm run test *")]),
        ("Bash(git status)", [("bash", "git status")]),
        ("Bash(git * main)", [("bash", "git * main")]),
        ("Read(./.env)", [("read", ".env")]),
        ("Read(.env)", [("read", ".env"), ("read", "*/.env")]),
        ("Read(secrets/**)", [("read", "secrets/*")]),
        ("Edit(/src/**/*.ts)", [("edit", "src/*/*.ts")]),
        ("Write(//etc/hosts)", [("edit", "/etc/hosts")]),
        ("MultiEdit", [("edit", "*")]),
        ("WebFetch(domain:example.com)", [("webfetch", "example.com")]),
        ("Task(reviewer)", [("task", "reviewer")]),
        ("mcp__github", [("mcp__github__*", "*")]),
        ("mcp__github__create_issue", [("mcp__github__create_issue", "*")]),
        ("WebSearch", []),
        ("Skill(pdf)", []),
    ],
)
def test_each_rule_form_translates(rule: str, pairs: list[tuple[str, str]], ws: Path) -> None:
    got, why = translate_rule(rule, root=ws, workspace=ws)
    assert got == pairs
    assert bool(why) == (not pairs)
    assert ("asks no permission" in why) == rule.startswith("Skill")


def test_home_paths_are_absolute(ws: Path) -> None:
    got, _ = translate_rule("Read(~/.ssh/**)", root=ws, workspace=ws)
    assert got == [("read", f"{Path.home()}/.ssh/*")]


def test_a_prefix_rule_matches_the_bare_command_and_its_arguments_only(ws: Path) -> None:
    rules = load_rules(ws, deny=["Bash(rm:*)"])
    assert decide(rules, "bash", "rm") == "deny"
    assert decide(rules, "bash", "rm -rf x") == "deny"
    assert decide(rules, "bash", "rmdir x") != "deny"


def load_rules(ws: Path, **permissions: object) -> list:
    _settings(ws, **permissions)
    return load_registry_for(ws, trust=True).get("backend-engineer").permission


def test_deny_beats_ask_beats_allow_inside_one_file_whatever_the_order(ws: Path) -> None:
    rules = load_rules(ws, deny=["Bash(git push:*)"], ask=["Bash(git commit:*)"], allow=["Bash(git:*)"])
    assert decide(rules, "bash", "git status") == "allow"
    assert decide(rules, "bash", "git commit -m x") == "ask"
    assert decide(rules, "bash", "git push origin") == "deny"


def test_a_workspace_deny_holds_against_a_persona_allow(ws: Path) -> None:
    _settings(ws, deny=["Bash(rm:*)"])
    put(ws, ".claude/agents/fixer.md", "---\nname: fixer\npermission: {bash: allow}\n---\nfix\n")
    spec = load_registry_for(ws, trust=True).get("fixer")
    assert decide(spec.permission, "bash", "make") == "allow"  # the persona's allow applies ...
    assert decide(spec.permission, "bash", "rm -rf src") == "deny"  # ... but not over the deny
    put(ws, ".subagent/config.yaml", "permission:\n  bash:\n    'rm *': deny\n")
    os.remove(ws / ".claude/settings.json")
    spec = load_registry_for(ws, trust=True).get("fixer")
    assert decide(spec.permission, "bash", "rm -rf src") == "deny"  # our own config: the same


def test_untrusted_settings_keep_deny_and_lose_allow_and_a_wider_mode(ws: Path) -> None:
    path = _settings(ws, allow=["Bash(touch:*)"], deny=["Read(./.env)"], defaultMode="bypassPermissions")
    reg = load_registry_for(ws)
    rules = reg.get("backend-engineer").permission
    assert decide(rules, "read", ".env") == "deny"
    assert decide(rules, "bash", "touch x") == "ask"
    assert reg.config.defaults.permission_mode == "default"
    refused = {(r.path, r.key) for r in reg.refusals}
    assert refused == {(path, "permission.bash.touch *"), (path, "defaults.permission_mode")}
    trusted = load_registry_for(ws, trust=True)
    assert decide(trusted.get("backend-engineer").permission, "bash", "touch x") == "allow"
    assert trusted.config.defaults.permission_mode == "bypass"


def test_a_tighter_mode_applies_untrusted(ws: Path) -> None:
    _settings(ws, defaultMode="plan")
    assert load_registry_for(ws).config.defaults.permission_mode == "plan"


def test_local_settings_come_after_the_project_and_user_settings_always_apply(ws: Path) -> None:
    _settings(ws, allow=["Bash(make:*)"])
    _settings(ws, ".claude/settings.local.json", ask=["Bash(make:*)"])
    put(
        Path(os.environ["CLAUDE_CONFIG_DIR"]),
        "settings.json",
        json.dumps({"permissions": {"allow": ["Bash(ls:*)"]}}),
    )
    rules = load_registry_for(ws, trust=True).get("backend-engineer").permission
    assert decide(rules, "bash", "make all") == "ask"
    untrusted = load_registry_for(ws)
    assert decide(untrusted.get("backend-engineer").permission, "bash", "ls -la") == "allow"
    only_user = load_registry_for(ws, trust=True, setting_sources=("user",))
    assert decide(only_user.get("backend-engineer").permission, "bash", "make all") == "ask"  # the default


def test_rules_carry_their_file_and_line(ws: Path) -> None:
    path = _settings(ws, allow=["Bash(make:*)"], deny=["Bash(rm:*)"])
    rules = load_registry_for(ws, trust=True).get("backend-engineer").permission
    rm = next(r for r in rules if r.pattern == "rm *")
    assert rm.source == str(path)
    assert path.read_text().splitlines()[rm.line - 1].strip() == '"Bash(rm:*)"'


def test_a_broken_settings_file_stops_a_run_with_its_name(ws: Path) -> None:
    put(ws, ".claude/settings.json", '{"permissions": {"deny": ["Bash(rm:*)"],}}')
    with pytest.raises(RegistryError, match=r"settings\.json: invalid JSON \(line 1\)"):
        load_registry_for(ws, trust=True).get("backend-engineer")


def test_opencode_json_permission_and_agent_blocks(ws: Path) -> None:
    put(
        ws,
        "opencode.json",
        json.dumps(
            {
                "$schema": "https://opencode.ai/config.json",
                "permission": {"bash": {"rm *": "deny"}, "edit": "ask"},
                "agent": {"backend-engineer": {"permission": {"bash": {"curl *": "deny"}}, "model": "x"}},
                "theme": "dark",
            }
        ),
    )
    put(ws, ".opencode/agent/build.md", "---\npermission:\n  bash: allow\n---\nbuild\n")
    reg = load_registry_for(ws, trust=True)
    build, backend = reg.get("build"), reg.get("backend-engineer")
    assert decide(build.permission, "bash", "rm -rf x") == "deny"
    assert decide(build.permission, "bash", "make") == "allow"
    assert decide(backend.permission, "bash", "curl x") == "deny"
    assert decide(build.permission, "bash", "curl x") == "allow"
    unapplied = next(f.unapplied for f in reg.files if f.path.name == "opencode.json")
    assert any(u.startswith("theme:") for u in unapplied)
    assert any(u.startswith("agent.backend-engineer.model:") for u in unapplied)


def test_an_opencode_agent_block_for_an_agent_nobody_defines_is_no_error(ws: Path) -> None:
    put(ws, "opencode.json", json.dumps({"agent": {"ghost": {"permission": {"edit": "deny"}}}}))
    reg = load_registry_for(ws, trust=True)
    assert reg.errors == []


def test_the_sandboxs_placeholder_for_a_missing_settings_file_is_no_file(ws: Path) -> None:
    placeholder = ws / ".claude/settings.json"
    placeholder.mkdir(parents=True)
    placeholder.chmod(0o555)  # what the sandbox makes while a bash call runs (agent/sandbox/_placeholder.py)
    (ws / "opencode.json").mkdir(mode=0o555)
    reg = load_registry_for(ws, trust=True)
    assert reg.errors == [] and reg.get("backend-engineer")
    (ws / "opencode.json").chmod(0o755)  # the control: a folder that is not a placeholder is an error
    assert any("opencode.json" in str(e) for e in load_registry_for(ws, trust=True).errors)


def test_a_source_left_out_keeps_only_its_deny_rules(ws: Path) -> None:
    """`--setting-sources user` leaves the project's file out, but not its denies (issue 20)."""
    _settings(ws, allow=["Bash(make:*)"], deny=["Bash(rm:*)"], defaultMode="acceptEdits")
    registry = load_registry_for(ws, trust=True, setting_sources=("user",))
    rules = registry.get("backend-engineer").permission
    assert decide(rules, "bash", "make all") == "ask" and decide(rules, "bash", "rm -rf x") == "deny"
    assert registry.config.defaults.permission_mode == "default"
