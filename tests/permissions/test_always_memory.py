"""One `always` memory per session: every run of the session (each a gate of its own) and every
subagent sees an answer given once, and no other session does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.permissions.always import AlwaysMemory
from agent.permissions.gate import PermissionGate
from agent.permissions.models import AskAnswer, AskRequest, PermissionRule, RuleUpdate
from agent.permissions.rules import DEFAULT_RULES
from tests.permissions.approvers import RecordingApprover, ask_request, bash_requests


def _run_gate(memory: AlwaysMemory | None, answer: AskAnswer) -> tuple[PermissionGate, RecordingApprover]:
    """The gate one run of a session gets (a new gate per run, the session's memory)."""
    approver = RecordingApprover(answer)
    return PermissionGate(list(DEFAULT_RULES), "default", approver, memory=memory), approver


async def test_allow_always_holds_for_every_later_run_of_the_session_and_only_for_it() -> None:
    session, other_session = AlwaysMemory(), AlwaysMemory()
    first, asked = _run_gate(session, AskAnswer(decision="allow", scope="always"))
    verdict = first.evaluate("bash", {"command": "npm test"}, bash_requests("npm test"))
    assert verdict.decision == "ask"
    await first.ask(ask_request(verdict.patterns))
    assert len(asked.requests) == 1

    second, _ = _run_gate(session, AskAnswer(decision="deny"))  # the next prompt: a new run, a new gate
    again = second.evaluate("bash", {"command": "npm test"}, bash_requests("npm test"))
    assert again.decision == "allow" and "session" in again.reason
    child = second.child()
    assert child.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "allow"

    elsewhere, _ = _run_gate(other_session, AskAnswer(decision="deny"))
    assert elsewhere.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "ask"
    alone, _ = _run_gate(None, AskAnswer(decision="deny"))  # a run with no session memory handed in
    assert alone.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "ask"


async def test_reject_always_denies_the_same_thing_later_without_asking() -> None:
    session = AlwaysMemory()
    first, _ = _run_gate(session, AskAnswer(decision="deny", scope="always", message="not here"))
    await first.ask(ask_request(["git push"]))
    second, asked = _run_gate(session, AskAnswer(decision="allow"))
    verdict = second.evaluate("bash", {"command": "git push"}, bash_requests("git push"))
    assert verdict.decision == "deny" and "session" in verdict.reason
    assert asked.requests == []


async def test_a_childs_always_answer_is_the_sessions() -> None:
    session = AlwaysMemory()
    parent, _ = _run_gate(session, AskAnswer(decision="allow", scope="always"))
    await parent.child().ask(ask_request(["make build"]))
    later, _ = _run_gate(session, AskAnswer(decision="deny"))
    assert later.evaluate("bash", {"command": "make build"}, bash_requests("make build")).decision == "allow"


def _ask(permission: str, pattern: str) -> AskRequest:
    return AskRequest(session_id="s", tool_use_id="t", tool_name="x", permission=permission,
                      patterns=[pattern], title=pattern)  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["bash", "edit"]),
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["allow", "deny"]),
            st.sampled_from(["once", "always"]),
        ),
        max_size=12,
    )
)
def test_the_memory_holds_the_last_always_answer_per_pattern(
    answers: list[tuple[str, str, str, str]],
) -> None:
    memory = AlwaysMemory()
    expected: dict[tuple[str, str], str] = {}
    for permission, pattern, decision, scope in answers:
        memory.remember(_ask(permission, pattern), AskAnswer(decision=decision, scope=scope))  # type: ignore[arg-type]
        if scope == "always":
            expected[(permission, pattern)] = decision
    assert {(r.permission, r.pattern): r.decision for r in memory.rules} == expected
    assert all(r.source == "session" for r in memory.rules)
    for (permission, pattern), decision in expected.items():
        assert memory.allows(permission, pattern) == (decision == "allow")


def _rule(permission: str, pattern: str, decision: str) -> PermissionRule:
    return PermissionRule(
        permission=permission, pattern=pattern, decision=decision, source="updatedPermissions"
    )  # type: ignore[arg-type]


def test_rule_updates_add_replace_and_remove_the_sessions_rules() -> None:
    memory = AlwaysMemory()
    memory.update(
        RuleUpdate(
            action="add", decision="allow", rules=[_rule("edit", "a", "allow"), _rule("bash", "ls", "allow")]
        )
    )
    memory.update(RuleUpdate(action="add", decision="deny", rules=[_rule("bash", "rm *", "deny")]))
    assert [(r.pattern, r.decision, r.source) for r in memory.rules] == [
        ("a", "allow", "session"), ("ls", "allow", "session"), ("rm *", "deny", "session"),
    ]  # fmt: skip
    memory.update(RuleUpdate(action="replace", decision="allow", rules=[_rule("edit", "b", "allow")]))
    assert [(r.pattern, r.decision) for r in memory.rules] == [("rm *", "deny"), ("b", "allow")]
    memory.update(RuleUpdate(action="remove", decision="deny", rules=[_rule("bash", "rm *", "deny")]))
    assert [(r.pattern, r.decision) for r in memory.rules] == [("b", "allow")]
