"""Rules from an untrusted file: deny always, ask unless it reopens a trusted deny, never allow."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.permissions.models import PermissionRule
from agent.permissions.rules import decide, matches
from agent.trust.rule_limits import _overlap, rule_refusal

DENY_PUSH = PermissionRule(permission="bash", pattern="git push *", decision="deny", source="user")


def _rule(decision: str, pattern: str = "*", permission: str = "bash") -> PermissionRule:
    return PermissionRule(permission=permission, pattern=pattern, decision=decision, source="ws")  # type: ignore[arg-type]


def test_allow_is_refused_deny_is_kept() -> None:
    assert rule_refusal(_rule("allow", "ls"), []) is not None
    assert rule_refusal(_rule("deny"), [DENY_PUSH]) is None


def test_ask_is_refused_only_where_it_would_reopen_a_deny() -> None:
    assert rule_refusal(_rule("ask", "git *"), [DENY_PUSH]) is not None
    assert rule_refusal(_rule("ask", "git push origin main"), [DENY_PUSH]) is not None
    assert rule_refusal(_rule("ask", "*", "*"), [DENY_PUSH]) is not None
    assert rule_refusal(_rule("ask", "curl *"), [DENY_PUSH]) is None
    assert rule_refusal(_rule("ask", "git push *", "edit"), [DENY_PUSH]) is None


def test_a_kept_ask_after_the_trusted_rules_never_turns_a_deny_into_an_ask() -> None:
    trusted = [PermissionRule(permission="bash", decision="allow", source="user"), DENY_PUSH]
    for pattern in ("curl *", "git *", "git push *", "*"):
        rule = _rule("ask", pattern)
        if rule_refusal(rule, [DENY_PUSH]) is None:
            assert decide([*trusted, rule], "bash", "git push origin") == "deny"


_PATTERNS = st.text(alphabet="ab *", min_size=0, max_size=5)


@settings(max_examples=400, deadline=None)
@given(_PATTERNS, _PATTERNS, st.text(alphabet="ab ", max_size=6))
def test_patterns_judged_apart_never_match_the_same_text(a: str, b: str, text: str) -> None:
    if not _overlap(a, b):
        assert not (matches(a, text) and matches(b, text)), (a, b, text)
