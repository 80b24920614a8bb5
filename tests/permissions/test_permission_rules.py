"""Rule resolution: opencode's wildcard semantics, last match wins, the default rules."""

from __future__ import annotations

import pytest

from agent.permissions.models import PermissionRule
from agent.permissions.rules import DEFAULT_RULES, decide, evaluate, is_read_only_command, matches


def _rules(permission: str, table: dict[str, str]) -> list[PermissionRule]:
    """One opencode `permission.<name>` map, in the order written."""
    return [PermissionRule(permission=permission, pattern=p, decision=d) for p, d in table.items()]  # type: ignore[arg-type]


# opencode's documented example: {"bash": {"*": "ask", "git status": "allow", "git push*": "deny"}}
OPENCODE_BASH = _rules("bash", {"*": "ask", "git status": "allow", "git push*": "deny"})


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git status", "allow"),
        ("git status --short", "ask"),  # "git status" has no wildcard: exact
        ("git push", "deny"),
        ("git push origin main", "deny"),
        ("git pushy", "deny"),  # `*` right after push also matches letters
        ("ls", "ask"),
        ("", "ask"),
    ],
)
def test_opencode_bash_example(command: str, expected: str) -> None:
    assert decide(OPENCODE_BASH, "bash", command) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("ls *", "ls", True),  # a trailing " *" is optional
        ("ls *", "ls -la /tmp", True),
        ("ls *", "lsof", False),
        ("git * --force", "git push origin --force", True),
        ("rm -rf *", "rm -rf /a b/c", True),  # `*` spans spaces and slashes
        ("src/*", "src/a/b.py", True),
        ("src/*.py", "src/pkg/mod.py", True),
        ("src/*.py", "src/pkg/mod.pyc", False),
        ("*.env", "config/prod.env", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a.c", "abc", False),  # regex characters are literal
        ("(x)+[y]", "(x)+[y]", True),
        ("src\\a.py", "src/a.py", True),  # backslashes read as slashes
        ("a.py", "./a.py", True),  # a leading ./ is dropped
        ("*", "", True),
        ("echo *", "echo line1\nline2", True),  # across newlines
    ],
)
def test_wildcards(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


def test_last_matching_rule_wins_not_the_most_specific() -> None:
    rules = _rules("edit", {"*.py": "allow", "*": "deny"})
    assert decide(rules, "edit", "a.py") == "deny"
    assert decide(list(reversed(rules)), "edit", "a.py") == "allow"


def test_permission_star_matches_every_permission_and_later_rules_of_the_same_source_win() -> None:
    rules = [
        PermissionRule(permission="*", decision="deny", source="a"),
        PermissionRule(permission="read", decision="allow", source="a"),
    ]
    assert decide(rules, "edit", "x") == "deny"
    assert decide(rules, "read", "x") == "allow"
    rule = evaluate(rules, "bash", "ls")
    assert rule is not None and rule.source == "a"


def test_a_deny_holds_against_a_later_allow_from_another_source() -> None:
    workspace = PermissionRule(permission="bash", pattern="rm *", decision="deny", source="workspace")
    persona = PermissionRule(permission="bash", decision="allow", source="persona")
    assert decide([workspace, persona], "bash", "rm -rf x") == "deny"
    assert decide([workspace, persona], "bash", "ls") == "allow"
    # the control: within one source, the later allow still carves its exception
    same = [workspace, persona.model_copy(update={"source": "workspace"})]
    assert decide(same, "bash", "rm -rf x") == "allow"


def test_no_matching_rule_is_none_and_decides_ask() -> None:
    rules = _rules("bash", {"git *": "allow"})
    assert evaluate(rules, "bash", "npm test") is None
    assert evaluate(rules, "edit", "git x") is None
    assert decide(rules, "bash", "npm test") == "ask"


@pytest.mark.parametrize(
    ("permission", "pattern", "expected"),
    [
        ("read", "src/a.py", "allow"),
        ("grep", "*", "allow"),
        ("glob", "**/*.py", "allow"),
        ("edit", "src/a.py", "ask"),
        ("task", "reviewer", "allow"),
        ("external_directory", "/etc/hosts", "ask"),
        ("webfetch", "https://x", "ask"),  # an unknown permission asks
        ("bash", "ls -la", "allow"),
        ("bash", "ls", "allow"),
        ("bash", "cat a.txt", "allow"),
        ("bash", "git status", "allow"),
        ("bash", "git log --oneline -5", "allow"),
        ("bash", "git diff HEAD~1", "allow"),
        ("bash", "git diff --output=x", "ask"),
        ("bash", "git push", "ask"),
        ("bash", "git branch", "allow"),
        ("bash", "git branch feature", "ask"),
        ("bash", "find . -name *.py", "allow"),
        ("bash", "find . -name x -delete", "ask"),
        ("bash", "find . -exec cat {} ;", "ask"),
        ("bash", "rg foo src", "allow"),
        ("bash", "rg --pre ./x foo", "ask"),
        ("bash", "sort -o out in", "ask"),
        ("bash", "rm x", "ask"),
        ("bash", "npm test", "ask"),
        ("bash", "lsof", "ask"),
    ],
)
def test_default_rules(permission: str, pattern: str, expected: str) -> None:
    assert decide(DEFAULT_RULES, permission, pattern) == expected


def test_read_only_allowlist_is_the_default_bash_allow() -> None:
    assert is_read_only_command("wc -l a b")
    assert not is_read_only_command("tee f")
    assert not is_read_only_command("find . -delete")
