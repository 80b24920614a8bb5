"""`tools` maps and lists and `permission` blocks become ordered rules, with opencode's semantics."""

from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.permissions.from_config import permission_to_rules, tools_to_selection
from agent.registry.spec import TOOL_NAMES


def triples(rules: list) -> list[tuple[str, str, str]]:
    return [(r.permission, r.pattern, r.decision) for r in rules]


def test_no_tools_block_enables_all_seven_without_rules() -> None:
    sel = tools_to_selection(None)
    assert sel.enabled == list(TOOL_NAMES)
    assert sel.rules == []
    assert sel.can_delegate is None


def test_false_is_a_deny_and_true_adds_no_rule() -> None:
    sel = tools_to_selection({"bash": False, "read": True}, source="p.md")
    assert sel.enabled == ["read", "edit", "write", "grep", "glob", "patch"]
    assert triples(sel.rules) == [("bash", "*", "deny")]
    assert sel.rules[0].source == "p.md"


@pytest.mark.parametrize("name", ["write", "edit", "patch"])
def test_write_edit_patch_share_the_edit_permission(name: str) -> None:
    sel = tools_to_selection({name: False})
    assert sel.enabled == ["read", "grep", "glob", "bash"]
    assert triples(sel.rules) == [("edit", "*", "deny")]


def test_later_entry_wins_on_a_shared_permission() -> None:
    assert "write" in tools_to_selection({"write": False, "edit": True}).enabled
    assert "edit" not in tools_to_selection({"edit": True, "patch": False}).enabled


def test_wildcards() -> None:
    sel = tools_to_selection({"*": False, "read": True, "grep": True})
    assert sel.enabled == ["read", "grep"]
    assert triples(sel.rules) == [
        ("edit", "*", "deny"),
        ("glob", "*", "deny"),
        ("bash", "*", "deny"),
        ("task", "*", "deny"),
        ("webfetch", "*", "deny"),
    ]
    assert sel.can_delegate is False
    assert tools_to_selection({"g*": False}).enabled == ["read", "edit", "write", "bash", "patch"]


def test_mcp_patterns_become_rules() -> None:
    sel = tools_to_selection({"mcp_*": False})
    assert sel.enabled == list(TOOL_NAMES)
    assert triples(sel.rules) == [("mcp_*", "*", "deny")]


def test_claude_list_and_comma_string() -> None:
    sel = tools_to_selection("Read, Grep,Glob")
    assert sel.enabled == ["read", "grep", "glob"]
    assert triples(sel.rules) == [("edit", "*", "deny"), ("bash", "*", "deny"), ("task", "*", "deny")]
    assert tools_to_selection(["Read", "MultiEdit", "Task"]).enabled == ["read", "edit"]
    assert tools_to_selection(["Task"]).can_delegate is True


def test_task_in_a_map_sets_delegation() -> None:
    assert tools_to_selection({"task": True}).can_delegate is True
    sel = tools_to_selection({"task": False})
    assert sel.can_delegate is False
    assert triples(sel.rules) == [("task", "*", "deny")]


@pytest.mark.parametrize("tools", [{"teleport": True}, ["Read", "Teleport"], {"read": "yes"}])
def test_bad_tools(tools: object) -> None:
    with pytest.raises(ConfigError):
        tools_to_selection(tools)  # type: ignore[arg-type]


def test_permission_string_and_map_in_order() -> None:
    assert triples(permission_to_rules("ask")) == [("*", "*", "ask")]
    rules = permission_to_rules(
        {
            "edit": "deny",
            "bash": {"*": "ask", "git status": "allow", "git push *": "deny"},
            "write": "ask",
            "external_directory": "deny",
        },
        source="x.md",
    )
    assert triples(rules) == [
        ("edit", "*", "deny"),
        ("bash", "*", "ask"),
        ("bash", "git status", "allow"),
        ("bash", "git push *", "deny"),
        ("edit", "*", "ask"),
        ("external_directory", "*", "deny"),
    ]
    assert {r.source for r in rules} == {"x.md"}
    assert permission_to_rules(None) == []


@pytest.mark.parametrize("block", ["sometimes", {"bash": "maybe"}, {"bash": {"ls": "yes"}}, ["ask"]])
def test_bad_permission(block: object) -> None:
    with pytest.raises(ConfigError):
        permission_to_rules(block)  # type: ignore[arg-type]


def test_foreign_tools_switched_on_are_dropped_with_a_note_each() -> None:
    sel = tools_to_selection(
        "Read, Grep, Glob, WebFetch, WebSearch, TodoWrite, NotebookRead, BashOutput, KillBash"
    )
    assert sel.enabled == ["read", "grep", "glob", "webfetch"]
    assert [note.split("'")[1] for note in sel.dropped] == [
        "WebSearch", "TodoWrite", "NotebookRead", "BashOutput", "KillBash",
    ]  # fmt: skip
    assert all("use " in note for note in sel.dropped)
    assert tools_to_selection({"websearch": True, "bash": False}).dropped[0].startswith("tool 'websearch'")
    assert tools_to_selection({"websearch": False}).dropped == []
    skill = tools_to_selection("Read, Skill")  # the skill tool comes with the skills found
    assert skill.enabled == ["read"] and skill.dropped == []


def test_webfetch_is_opt_in() -> None:
    assert "webfetch" not in tools_to_selection(None).enabled
    assert "webfetch" not in tools_to_selection({"bash": False}).enabled
    assert triples(tools_to_selection({"bash": False}).rules) == [("bash", "*", "deny")]
    on = tools_to_selection({"webfetch": True})
    assert "webfetch" in on.enabled and on.rules == []
    assert ("webfetch", "*", "deny") in triples(tools_to_selection({"webfetch": False}).rules)
    assert ("webfetch", "*", "deny") not in triples(tools_to_selection(["Read"]).rules)  # absent is enough
