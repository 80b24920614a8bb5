"""The loop with the real PermissionGate: what the model is told when a call is refused."""

from __future__ import annotations

from pathlib import Path

from agent.permissions.gate import PermissionGate
from agent.permissions.headless import PolicyApprover
from agent.permissions.models import PermissionRule
from agent.permissions.rules import DEFAULT_RULES
from tests.loop.harness import call, checked, collect, make_setup


async def test_bypass_runs_the_same_call_three_times_without_asking(tmp_path: Path) -> None:
    gate = PermissionGate(list(DEFAULT_RULES), "bypass", PolicyApprover("deny"))
    same = [{"tool_calls": [call("write_note", f"w{i}", name="log.txt", text="x")]} for i in range(3)]
    setup, _ = make_setup(tmp_path, [*same, {"text": "done"}], gate=gate)  # type: ignore[arg-type]
    result = (await collect(setup))[-1]
    assert result.subtype == "success" and result.permission_denials == []
    assert (tmp_path / "log.txt").read_text() == "xxx"


async def test_a_refused_ask_tells_the_model_why_it_was_asked(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("note")
    gate = PermissionGate(list(DEFAULT_RULES), "default", PolicyApprover("deny"))
    same = [{"tool_calls": [call("read_note", f"r{i}", name="f")]} for i in range(3)]
    setup, model = make_setup(tmp_path, [*same, {"text": "stuck"}], gate=gate)  # type: ignore[arg-type]
    result = (await collect(setup))[-1]
    answer = checked(model)[3]["messages"][-1]["content"][0]["content"]
    assert "no terminal to ask on" in answer and "loop guard" in answer and "3 times" in answer
    assert [d.tool_use_id for d in result.permission_denials] == ["r2"]
    assert result.permission_denials[0].reason in answer


async def test_a_denial_is_recorded_once_with_its_call(tmp_path: Path) -> None:
    rules = [*DEFAULT_RULES, PermissionRule(permission="edit", pattern="f", decision="deny")]
    gate = PermissionGate(rules, "default", PolicyApprover("deny"))
    replies = [
        {"tool_calls": [call("write_note", "w1", name="f", text="x"), call("write_note", "w2", name="g")]},
        {"text": "could not"},
    ]
    setup, _ = make_setup(tmp_path, replies, gate=gate)  # type: ignore[arg-type]
    result = (await collect(setup))[-1]
    assert [(d.tool_use_id, d.tool_input) for d in result.permission_denials] == [
        ("w1", {"name": "f", "text": "x"}), ("w2", {"name": "g"}),
    ]  # fmt: skip
    assert not hasattr(gate, "denials")  # one record: the loop's, never a second, partial one in the gate
