"""Who may delegate, what a child inherits (asks to the root, denials, model), and the public API."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.permissions.models import AskAnswer, AskRequest
from agent.registry.spec import AgentSpec, may_delegate
from tests.orchestrator._scenario import collect, final, model, results, task, workspace, write


class RecordingApprover:
    def __init__(self) -> None:
        self.asked: list[AskRequest] = []

    async def ask(self, request: AskRequest) -> AskAnswer:
        self.asked.append(request)
        return AskAnswer(decision="allow")


@pytest.mark.parametrize(
    ("mode", "can_delegate", "depth", "max_depth", "expected"),
    [
        ("primary", None, 0, 2, True),
        ("all", None, 0, 2, True),
        ("subagent", None, 0, 2, False),
        ("subagent", None, 1, 2, False),  # children delegate only when allowed
        ("subagent", True, 1, 2, True),
        ("subagent", True, 2, 2, False),  # the depth cap
        ("primary", False, 0, 2, False),
        ("primary", None, 0, 0, False),
    ],
)
def test_who_gets_the_task_tool(
    mode: str, can_delegate: bool | None, depth: int, max_depth: int, expected: bool
) -> None:
    spec = AgentSpec(name="a", prompt="p", mode=mode, can_delegate=can_delegate)  # type: ignore[arg-type]
    assert may_delegate(spec, depth, max_depth) is expected


async def test_children_ask_the_root_inherit_denials_and_get_no_task_tool(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        config={
            "defaults": {"permission_mode": "default"},
            "permission": {"task": "allow", "read": "allow"},
            "agents": {
                "orchestrator": {"permission": {"edit": {"secret*": "deny"}}},
                "worker": {"permission": {"edit": "allow"}},
            },
        },
    )
    bash = {"name": "bash", "input": {"command": "touch made-by-bash.txt"}}
    client = model(
        [
            {"agent": "orchestrator", "replies": [{"tool_calls": [task("three calls")]}, {"text": "ok"}]},
            {
                "agent": "worker",
                "replies": [
                    {"tool_calls": [write("secret.txt", "x\n"), write("open.txt", "y\n"), bash]},
                    {"text": "tried all three"},
                ],
            },
        ]
    )
    approver = RecordingApprover()
    events = await collect("go", ws, client, approver=approver)

    assert [(a.agent, a.tool_name) for a in approver.asked] == [("worker", "bash")]
    assert (ws / "made-by-bash.txt").exists() and (ws / "open.txt").exists()
    assert not (ws / "secret.txt").exists()  # the parent's deny holds over the child's allow
    denied = [e for e in events if e.type == "permission_answered" and e.decision == "deny"]
    assert denied and all(e.parent_tool_use_id for e in denied)
    child_tools = next(e.tools for e in events if e.type == "session_started" and e.parent_tool_use_id)
    assert "task" not in child_tools
    parent_tools = next(e.tools for e in events if e.type == "session_started" and not e.parent_tool_use_id)
    assert "task" in parent_tools


async def test_a_child_uses_its_own_model_or_inherits_the_parents(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    for name, line in (("fixed", "model: haiku"), ("inheriting", "model: inherit")):
        (ws / ".subagent" / "agents" / f"{name}.md").write_text(
            f"---\ndescription: test\nmode: subagent\n{line}\n---\nbody\n"
        )
    client = model(
        [
            {
                "agent": "orchestrator",
                "replies": [
                    {"tool_calls": [task("one", agent="fixed"), task("two", agent="inheriting")]},
                    {"text": "ok"},
                ],
            },
            {"agent": "fixed", "replies": [{"text": "fixed here"}]},
            {"agent": "inheriting", "replies": [{"text": "inherited"}]},
        ]
    )
    events = await collect("models", ws, client, model="opus")

    models = {e.agent: e.model for e in events if e.type == "session_started"}
    assert models == {
        "orchestrator": "claude-opus-5-5",
        "fixed": "claude-haiku-5-5",
        "inheriting": "claude-opus-5-5",
    }
    assert final(events).subtype == "success" and len(results(events)) == 2


async def test_a_child_that_cannot_start_is_an_error_result_and_its_siblings_go_on(tmp_path: Path) -> None:
    import dataclasses

    from agent.errors import ConfigError
    from agent.orchestrator.base import SubtaskSpec
    from agent.orchestrator.local import LocalDispatcher
    from agent.runtime.parts import default_parts

    def no_tools(*_args: object) -> None:
        raise ConfigError("tools refused (test)")

    ws = workspace(tmp_path)
    client = model([{"agent": "worker", "replies": [{"text": "never"}]}])
    parts = dataclasses.replace(default_parts(), load_tools=no_tools)
    dispatcher = LocalDispatcher(ws, model_client=client, parts=parts)
    results = await dispatcher.run(
        [
            SubtaskSpec(id="odd id/1", agent="worker", prompt="a"),
            SubtaskSpec(id="two", agent="worker", prompt="b"),
        ]
    )

    assert [(r.id, r.status) for r in results] == [
        ("odd id/1", "error_during_execution"),
        ("two", "error_during_execution"),
    ]
    assert all("could not run: tools refused (test)" in (r.error or "") for r in results)
