"""The loop's edges: cancellation from outside, resumed history, internal failures, tool events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.loop.agent_loop import run_loop
from tests.loop.fakes import MemoryStore, SleepTool, TableGate
from tests.loop.harness import call, checked, collect, make_setup
from tests.request_check import check_request


async def test_cancelling_the_consumer_task_leaves_a_valid_transcript(tmp_path: Path) -> None:
    SleepTool.started = asyncio.Event()
    store = MemoryStore()
    setup, _ = make_setup(tmp_path, [{"tool_calls": [call("sleep", "z1", name="x")]}], store=store)

    async def consume() -> None:
        async for _ in run_loop(setup, "go"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(SleepTool.started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.role for r in store.rows] == ["user", "assistant", "user"]
    check_request({"messages": [{"role": r.role, "content": r.content} for r in store.rows]})


async def test_a_prompt_after_stored_tool_results_joins_their_message(tmp_path: Path) -> None:
    history = [
        {"role": "user", "content": [{"type": "text", "text": "start"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t0", "name": "sleep", "input": {"name": "x"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t0", "content": "interrupted", "is_error": True}
            ],
        },
    ]
    setup, model = make_setup(tmp_path, [{"text": "resumed"}, {"text": "resumed"}], history=history)
    setup.history = history
    events = [e async for e in run_loop(setup, "carry on")]
    assert events[-1].subtype == "success"
    last = checked(model)[0]["messages"][-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "text"]


async def test_a_bug_in_the_gate_still_ends_with_a_result(tmp_path: Path) -> None:
    class BrokenGate(TableGate):
        def evaluate(self, *args: Any) -> Any:
            raise RuntimeError("gate exploded")

    (tmp_path / "a").write_text("A")
    setup, _ = make_setup(tmp_path, [{"tool_calls": [call("read_note", "t", name="a")]}], gate=BrokenGate())
    events = await collect(setup)
    assert events[-1].subtype == "error_during_execution" and "gate exploded" in events[-1].result


async def test_a_running_tool_is_handed_its_call_and_can_emit_events_into_the_stream(tmp_path: Path) -> None:
    from typing import ClassVar

    from agent.events import SubagentStartedEvent
    from agent.tool import PermissionRequest, Tool, ToolCallInfo, ToolContext, ToolResult
    from tests.loop.fakes import NoteInput

    class TaskLikeTool(Tool[NoteInput]):
        name: ClassVar[str] = "task"
        description: ClassVar[str] = "Start a child."
        input_model: ClassVar[type] = NoteInput
        kind: ClassVar = "other"

        async def run(self, input: NoteInput, ctx: ToolContext) -> ToolResult:
            raise AssertionError("the loop hands a call its info: run_call, not run")

        async def run_call(self, input: NoteInput, ctx: ToolContext, call: ToolCallInfo) -> ToolResult:
            assert call.turn == (("task", {"name": "sub"}),)  # the turn's allowed calls, this one too
            call.emit(
                SubagentStartedEvent(
                    session_id="s1",
                    child_session_id="c1",
                    agent="child",
                    description=input.name,
                    parent_tool_use_id=call.tool_use_id,
                )
            )
            return ToolResult(output="child done")

        def permission_requests(self, input: NoteInput, ctx: ToolContext) -> list[PermissionRequest]:
            return [PermissionRequest(permission="task", patterns=[input.name])]

    setup, _ = make_setup(tmp_path, [{"tool_calls": [call("task", "k1", name="sub")]}, {"text": "ok"}])
    setup.runner.tools["task"] = TaskLikeTool()
    events = await collect(setup)
    started = next(e for e in events if e.type == "subagent_started")
    assert started.parent_tool_use_id == "k1" and started.description == "sub"


async def test_a_failed_checkpoint_is_shown_and_the_work_goes_on(tmp_path: Path) -> None:
    setup, _ = make_setup(
        tmp_path,
        [{"tool_calls": [call("write_note", "w", name="f", text="x")]}, {"text": "ok"}],
        checkpoints=[],
    )

    async def broken(label: str, tool_use_id: str) -> None:
        raise OSError("disk full")

    setup.runner.checkpointer = broken
    events = await collect(setup)
    assert any(e.type == "error" and e.error_type == "checkpoint_failed" for e in events)
    assert (tmp_path / "f").read_text() == "x" and events[-1].subtype == "success"


async def test_cancel_during_the_model_stream_stops_it(tmp_path: Path) -> None:
    store = MemoryStore()
    setup, _ = make_setup(
        tmp_path, [{"thinking": "slow", "text": "never finished", "delay_s": 30}], store=store
    )
    events: list[Any] = []

    async def consume() -> None:
        async for event in run_loop(setup, "go"):
            events.append(event)
            if event.type == "turn_started":
                setup.cancel.set()

    await asyncio.wait_for(consume(), 10)
    assert events[-1].subtype == "cancelled"
    assert [r.role for r in store.rows] == ["user"]
