"""The gate's asks: no approver, timeouts, `always` kept for the session, the loop guard, children."""

from __future__ import annotations

from agent.permissions.gate import NO_APPROVER, PermissionGate
from agent.permissions.models import AskAnswer
from agent.permissions.rules import DEFAULT_RULES
from agent.tool import PermissionRequest
from tests.permissions.approvers import RecordingApprover, SilentApprover, ask_request, bash_requests, rule


async def test_ask_without_approver_is_a_denial_that_says_how_to_fix_it() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    verdict = gate.evaluate("bash", {"command": "npm test"}, bash_requests("npm test"))
    assert verdict.decision == "ask"
    answer = await gate.ask(ask_request(verdict.patterns))
    assert answer.decision == "deny" and answer.message == NO_APPROVER
    assert "--permission-mode" in NO_APPROVER


async def test_ask_that_is_never_answered_times_out_into_a_denial() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", SilentApprover(), ask_timeout_s=0.05)
    answer = await gate.ask(ask_request(["npm test"]))
    assert answer.decision == "deny" and "no answer within 0.05 s" in answer.message


async def test_allow_always_is_remembered_for_the_session() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver)
    first = gate.evaluate("bash", {"command": "npm test"}, bash_requests("npm test"))
    assert first.decision == "ask"
    assert (await gate.ask(ask_request(first.patterns))).decision == "allow"
    again = gate.evaluate("bash", {"command": "ls && npm test"}, bash_requests("ls && npm test"))
    assert again.decision == "allow" and "session" in again.reason
    other = gate.evaluate("bash", {"command": "npm publish"}, bash_requests("npm publish"))
    assert other.decision == "ask"
    assert len(approver.requests) == 1


async def test_allow_always_covers_an_unanalysable_line_exactly() -> None:
    gate = PermissionGate(
        list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="allow", scope="always"))
    )
    line = 'eval "$(direnv export bash)"'
    verdict = gate.evaluate("bash", {"command": line}, bash_requests(line))
    assert verdict.decision == "ask" and verdict.patterns == [line, "direnv export bash"]
    await gate.ask(ask_request(verdict.patterns))
    assert gate.evaluate("bash", {"command": line}, bash_requests(line)).decision == "allow"
    assert gate.evaluate("bash", {"command": "eval x"}, bash_requests("eval x")).decision == "ask"


async def test_allow_once_is_not_remembered() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="allow")))
    await gate.ask(ask_request(["npm test"]))
    assert gate.session_rules == []
    assert gate.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "ask"


async def test_denial_with_a_message_carries_it() -> None:
    gate = PermissionGate(
        list(DEFAULT_RULES), "default", RecordingApprover(AskAnswer(decision="deny", message="use make"))
    )
    gate.evaluate("bash", {"command": "npm test"}, bash_requests("npm test"))
    answer = await gate.ask(ask_request(["npm test"], tool_use_id="t7"))
    assert answer.decision == "deny" and answer.message == "use make"


def test_loop_guard_asks_on_the_third_identical_call_in_a_row() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "default", approver=None)
    read_a = [PermissionRequest(permission="read", patterns=["a"])]
    decisions = [gate.evaluate("read", {"file_path": "a"}, read_a) for _ in range(4)]
    assert [v.decision for v in decisions] == ["allow", "allow", "ask", "ask"]
    assert "loop guard" in decisions[2].reason and "3 times" in decisions[2].reason
    read_b = [PermissionRequest(permission="read", patterns=["b"])]
    assert gate.evaluate("read", {"file_path": "b"}, read_b).decision == "allow"  # a different call resets
    assert gate.evaluate("read", {"file_path": "a"}, read_a).decision == "allow"


def test_loop_guard_never_asks_in_bypass_mode() -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "bypass", approver=None)
    append = bash_requests("date >> log.txt")
    decisions = [gate.evaluate("bash", {"command": "date >> log.txt"}, append).decision for _ in range(4)]
    assert decisions == ["allow"] * 4


async def test_child_keeps_parent_denies_and_asks_reach_the_root_approver() -> None:
    approver = RecordingApprover(AskAnswer(decision="allow", scope="always"))
    parent = PermissionGate([*DEFAULT_RULES, rule("bash", "rm *", "deny")], "default", approver)
    child = parent.child([rule("bash", "*", "allow")])
    grandchild = child.child([rule("edit", "*", "ask")])

    assert (
        child.evaluate("bash", {"command": "rm y"}, bash_requests("rm y")).decision == "deny"
    )  # parent deny kept
    assert (
        child.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "allow"
    )  # own rule
    assert (
        parent.evaluate("bash", {"command": "npm test"}, bash_requests("npm test")).decision == "ask"
    )  # not upward

    verdict = grandchild.evaluate(
        "edit", {"file_path": "a.py"}, [PermissionRequest(permission="edit", patterns=["a.py"])]
    )
    assert verdict.decision == "ask"
    await grandchild.ask(ask_request(["a.py"], permission="edit"))
    assert [r.permission for r in approver.requests] == ["edit"]  # reached the root's approver
    edit = [PermissionRequest(permission="edit", patterns=["a.py"])]
    assert parent.evaluate("edit", {"file_path": "a.py"}, edit).decision == "allow"  # session rule shared
