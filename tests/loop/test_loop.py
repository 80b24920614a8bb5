"""The loop against the scripted model: stop reasons, tools, permissions, limits, cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.events import ResultEvent
from agent.loop.agent_loop import run_loop
from agent.transcript import interrupted_text
from tests.loop.fakes import MemoryStore, ReadNoteTool, SleepTool, TableGate, WriteNoteTool
from tests.loop.harness import call, checked, collect, make_setup
from tests.request_check import check_request


async def test_text_only_reply_is_a_success(tmp_path: Path) -> None:
    setup, model = make_setup(
        tmp_path, [{"text": "hello there", "usage": {"input_tokens": 1000, "output_tokens": 100}}]
    )
    events = await collect(setup)
    result = events[-1]
    assert isinstance(result, ResultEvent)
    assert (result.subtype, result.result, result.num_turns, result.is_error) == (
        "success",
        "hello there",
        1,
        False,
    )
    assert result.total_cost_usd == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    assert [e.type for e in events][:3] == ["session_started", "turn_started", "text_delta"]
    body = checked(model)[0]
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["system"][0]["text"] == "You test."


async def test_parallel_reads_run_together_and_answer_in_one_message(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("AAA")
    (tmp_path / "b").write_text("BBB")
    ReadNoteTool.barrier = asyncio.Barrier(2)  # deadlocks (then times out) unless both run at once
    try:
        setup, model = make_setup(
            tmp_path,
            [
                {"tool_calls": [call("read_note", "t1", name="a"), call("read_note", "t2", name="b")]},
                {"text": "done"},
            ],
        )
        events = await collect(setup)
    finally:
        ReadNoteTool.barrier = None
    assert events[-1].subtype == "success"
    second = checked(model)[1]["messages"]
    results = second[2]["content"]
    assert [(r["tool_use_id"], r["content"]) for r in results] == [("t1", "AAA"), ("t2", "BBB")]


async def test_same_file_edits_run_in_order_after_one_checkpoint(tmp_path: Path) -> None:
    WriteNoteTool.order = []
    checkpoints: list[str] = []
    setup, model = make_setup(
        tmp_path,
        [
            {
                "tool_calls": [
                    call("write_note", "w1", name="f", text="slow-1 "),
                    call("write_note", "w2", name="f", text="2"),
                ]
            },
            {"text": "done"},
        ],
        checkpoints=checkpoints,
    )
    events = await collect(setup)
    assert WriteNoteTool.order == ["slow-1 ", "2"]
    assert (tmp_path / "f").read_text() == "slow-1 2"
    assert checkpoints == ["write_note (+1 more)"]
    assert events[-1].files_changed == [str(tmp_path / "f")]
    checked(model)


async def test_cut_off_tool_call_is_not_run(tmp_path: Path) -> None:
    WriteNoteTool.order = []
    setup, model = make_setup(
        tmp_path,
        [
            {
                "tool_calls": [
                    {"name": "write_note", "id": "w1", "input_json": '{"name": "f", "text": "hal'}
                ],
                "stop_reason": "max_tokens",
            },
            {"text": "ok, shorter next time"},
        ],
    )
    events = await collect(setup)
    assert WriteNoteTool.order == []
    result = checked(model)[1]["messages"][2]["content"][0]
    assert result["is_error"] and "cut off" in result["content"]
    assert events[-1].subtype == "success"


async def test_max_tokens_without_a_call_asks_to_continue(tmp_path: Path) -> None:
    setup, model = make_setup(tmp_path, [{"text": "part one", "stop_reason": "max_tokens"}, {"text": " two"}])
    events = await collect(setup)
    assert events[-1].result == " two"
    assert "cut off" in checked(model)[1]["messages"][-1]["content"][0]["text"]


async def test_denied_call_is_an_error_result_and_the_run_reports_it(tmp_path: Path) -> None:
    setup, model = make_setup(
        tmp_path,
        [
            {"tool_calls": [call("write_note", "w1", name="f", text="x")]},
            {"text": "could not"},
        ],
        gate=TableGate({"edit": "deny"}),
    )
    events = await collect(setup)
    result = events[-1]
    assert result.subtype == "error_permission_denied" and result.is_error
    assert [(d.tool_use_id, d.tool_name) for d in result.permission_denials] == [("w1", "write_note")]
    assert not (tmp_path / "f").exists()
    answer = checked(model)[1]["messages"][2]["content"][0]
    assert answer["is_error"] and "permission denied" in answer["content"]


async def test_ask_goes_to_the_approver_with_events(tmp_path: Path) -> None:
    gate = TableGate({"edit": "ask"}, answer="allow")
    setup, _ = make_setup(
        tmp_path,
        [{"tool_calls": [call("write_note", "w1", name="f", text="x")]}, {"text": "done"}],
        gate=gate,
    )
    events = await collect(setup)
    types = [e.type for e in events]
    assert (
        types.index("permission_asked")
        < types.index("permission_answered")
        < types.index("tool_call_finished")
    )
    assert gate.asked[0].tool_use_id == "w1" and (tmp_path / "f").read_text() == "x"


async def test_max_turns_ends_with_its_subtype(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    loop_reply = {"tool_calls": [call("read_note", "t", name="a")]}
    setup, model = make_setup(tmp_path, [loop_reply] * 5, max_turns=2)
    events = await collect(setup)
    assert (events[-1].subtype, events[-1].num_turns) == ("error_max_turns", 2)
    assert len(model.requests) == 2


async def test_budget_ends_with_its_subtype(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    reply = {"tool_calls": [call("read_note", "t", name="a")], "usage": {"input_tokens": 1_000_000}}
    setup, model = make_setup(tmp_path, [reply] * 5, max_budget_usd=5.0)
    events = await collect(setup)
    assert events[-1].subtype == "error_max_budget"
    assert len(model.requests) == 2  # $3 after one turn, $6 after two: stop before a third


async def test_refusal_ends_without_resending(tmp_path: Path) -> None:
    setup, model = make_setup(
        tmp_path, [{"text": "I can't help with that.", "stop_reason": "refusal"}, {"text": "never asked"}]
    )
    events = await collect(setup)
    assert (events[-1].subtype, len(model.requests)) == ("error_during_execution", 1)


async def test_pause_turn_sends_the_content_back_unchanged(tmp_path: Path) -> None:
    setup, model = make_setup(
        tmp_path, [{"thinking": "hmm", "text": "working", "stop_reason": "pause_turn"}, {"text": "finished"}]
    )
    events = await collect(setup)
    assert events[-1].result == "finished"
    second = checked(model)[1]["messages"]
    assert second[1]["role"] == "assistant"
    assert second[1]["content"][0] == {"type": "thinking", "thinking": "hmm", "signature": "scripted"}


async def test_unknown_stop_reason_is_tolerated(tmp_path: Path) -> None:
    setup, _ = make_setup(tmp_path, [{"text": "fine", "stop_reason": "some_future_reason"}])
    assert (await collect(setup))[-1].subtype == "success"


async def test_cancel_stops_running_tools_and_answers_them(tmp_path: Path) -> None:
    SleepTool.started = asyncio.Event()
    store = MemoryStore()
    setup, _ = make_setup(
        tmp_path, [{"tool_calls": [call("sleep", "z1", name="x")]}, {"text": "never"}], store=store
    )
    events: list[Any] = []

    async def consume() -> None:
        async for event in run_loop(setup, "go"):
            events.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(SleepTool.started.wait(), 5)
    setup.cancel.set()
    await asyncio.wait_for(task, 5)
    assert events[-1].subtype == "cancelled"
    roles = [r.role for r in store.rows]
    assert roles == ["user", "assistant", "user"]
    answer = store.wire_rows()[-1]["content"][0]
    assert answer["tool_use_id"] == "z1" and answer["is_error"]
    assert answer["content"] == interrupted_text(True, "the run was cancelled")  # it had started
    finished = [(e.type, e.tool_use_id, e.is_error) for e in events if e.type == "tool_call_finished"]
    assert finished == [("tool_call_finished", "z1", True)]  # front ends see the call end
    assert events[-2].type == "tool_call_finished" and events[-1].type == "result"
    check_request({"messages": store.wire_rows()})
    assert store.updates[-1]["status"] == "cancelled"


async def test_messages_are_stored_as_they_complete(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    store = MemoryStore()
    setup, _ = make_setup(
        tmp_path, [{"tool_calls": [call("read_note", "t", name="a")]}, {"text": "done"}], store=store
    )
    await collect(setup, "read a")
    assert [r.role for r in store.rows] == ["user", "assistant", "user", "assistant"]
    assert store.wire_rows()[0]["content"] == [{"type": "text", "text": "read a"}]
    assert "cache_control" not in str(store.wire_rows())


async def test_unknown_tool_and_bad_input_are_errors_the_model_sees(tmp_path: Path) -> None:
    setup, model = make_setup(
        tmp_path, [{"tool_calls": [call("nope", "n1"), call("read_note", "r1", wrong=1)]}, {"text": "done"}]
    )
    await collect(setup)
    results = checked(model)[1]["messages"][2]["content"]
    assert "unknown tool 'nope'" in results[0]["content"] and results[0]["is_error"]
    assert "invalid input for read_note" in results[1]["content"]


async def test_cache_breakpoints_roll_with_the_conversation(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("A")
    reply = {"tool_calls": [call("read_note", "t", name="a")]}
    setup, model = make_setup(tmp_path, [reply, reply, reply, {"text": "done"}])
    await collect(setup)
    bodies = checked(model)
    systems = [b["system"] for b in bodies]
    assert all(s == systems[0] for s in systems)  # byte-identical cached prefix
    last = bodies[-1]["messages"]
    assert "cache_control" in last[-1]["content"][-1] and "cache_control" in last[-3]["content"][-1]
