"""Transcript repair after a crash: every case ends in a valid request prefix."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from agent.sessions.base import StoredMessage
from agent.sessions.repair import repair_transcript
from agent.transcript import interrupted_text, messages_to_wire, parse_messages


@dataclasses.dataclass
class Repaired:
    messages: list[dict[str, Any]]
    notes: list[str]


def repair(messages: list[dict[str, Any]], started_tools: Iterable[str] = ()) -> Repaired:
    """`repair_transcript` over the wire form, as the store holds it."""
    result = repair_transcript(parse_messages(messages), started_tools)
    return Repaired(messages_to_wire(result.messages), result.notes)


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(blocks)}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def call(tool_id: str, tool_input: Any = None) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": tool_id,
        "name": "bash",
        "input": {"command": "ls"} if tool_input is None else tool_input,
    }


def result(tool_id: str, content: str = "ok") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content}


def assert_valid(messages: list[dict[str, Any]]) -> None:
    """The Messages API rules the repair promises: alternation, user first, every call answered first."""
    assert messages and messages[0]["role"] == "user"
    for before, after in pairwise(messages):
        assert before["role"] != after["role"]
    for index, message in enumerate(messages):
        assert message["content"], "no empty messages"
        calls = [b["id"] for b in message["content"] if b.get("type") == "tool_use"]
        if message["role"] == "assistant" and calls:
            nxt = messages[index + 1]["content"]
            head = [b.get("tool_use_id") for b in nxt[: len(calls)]]
            assert head == calls, "tool results first, in call order"
        if message["role"] == "user":
            answered = {b["tool_use_id"] for b in message["content"] if b.get("type") == "tool_result"}
            prev = messages[index - 1]["content"] if index else []
            assert answered <= {b["id"] for b in prev if b.get("type") == "tool_use"}


def test_valid_transcript_is_unchanged() -> None:
    messages = [user(text("hi")), assistant(call("t1")), user(result("t1")), assistant(text("done"))]
    repaired = repair(messages)
    assert repaired.messages == messages and repaired.notes == []


def test_dangling_tool_use_at_the_end_not_started() -> None:
    repaired = repair([user(text("hi")), assistant(text("let me look"), call("t1"))])
    assert_valid(repaired.messages)
    last = repaired.messages[-1]["content"]
    assert last == [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": interrupted_text(False)}
    ]
    assert "did not run" in last[0]["content"]
    assert any("t1" in note and "not started" in note for note in repaired.notes)


def test_interrupted_after_the_tool_started_says_so() -> None:
    repaired = repair([user(text("hi")), assistant(call("t1"), call("t2"))], started_tools={"t1"})
    assert_valid(repaired.messages)
    answers = {b["tool_use_id"]: b["content"] for b in repaired.messages[-1]["content"]}
    assert answers == {"t1": interrupted_text(True), "t2": interrupted_text(False)}
    assert "partly" in answers["t1"]


def test_partial_results_are_completed_and_put_first_in_call_order() -> None:
    messages = [
        user(text("hi")),
        assistant(call("t1"), call("t2"), call("t3")),
        user(text("also this"), result("t3"), result("t1")),
    ]
    repaired = repair(messages, started_tools={"t2"})
    assert_valid(repaired.messages)
    content = repaired.messages[-1]["content"]
    assert [b.get("tool_use_id") for b in content] == ["t1", "t2", "t3", None]
    assert content[1]["is_error"] is True and content[3] == text("also this")


def test_consecutive_user_messages_are_merged() -> None:
    messages = [user(text("one")), user(text("two")), assistant(text("ok"))]
    repaired = repair(messages)
    assert repaired.messages == [user(text("one"), text("two")), assistant(text("ok"))]
    assert any("merged" in note for note in repaired.notes)


def test_a_user_prompt_stored_after_a_dangling_call_keeps_results_first() -> None:
    """Crash during tools, then the user typed a new prompt that was stored before resuming."""
    messages = [user(text("hi")), assistant(call("t1")), user(text("go on"))]
    repaired = repair(messages)
    assert_valid(repaired.messages)
    assert repaired.messages[-1]["content"][0]["tool_use_id"] == "t1"
    assert repaired.messages[-1]["content"][1] == text("go on")


def test_trailing_half_message_is_dropped() -> None:
    messages = [user(text("hi")), assistant(text("I will"), call("t1", '{"command": "l'))]
    repaired = repair(messages)
    assert repaired.messages == [user(text("hi"))]
    assert any("cut off" in note for note in repaired.notes)


def test_empty_trailing_assistant_message_is_dropped() -> None:
    repaired = repair([user(text("hi")), assistant(text(""))])
    assert repaired.messages == [user(text("hi"))]


def test_unparseable_input_in_the_middle_becomes_an_empty_object() -> None:
    messages = [user(text("hi")), assistant(call("t1", "{bad")), user(result("t1")), assistant(text("x"))]
    repaired = repair(messages)
    assert repaired.messages[1]["content"][0]["input"] == {}
    assert messages[1]["content"][0]["input"] == "{bad", "the caller's data is not mutated"


def test_orphan_tool_result_is_dropped() -> None:
    messages = [user(text("hi")), assistant(text("no tools")), user(result("t9"), text("next"))]
    repaired = repair(messages)
    assert_valid(repaired.messages)
    assert repaired.messages[-1] == user(text("next"))


def test_two_assistant_messages_in_a_row_answer_the_first_calls() -> None:
    messages = [user(text("hi")), assistant(call("t1")), assistant(call("t2"))]
    repaired = repair(messages)
    assert_valid(repaired.messages)
    assert [m["role"] for m in repaired.messages] == ["user", "assistant", "user"]


def test_leading_assistant_and_string_content() -> None:
    messages = [assistant(text("stray")), {"role": "user", "content": "plain string"}]
    repaired = repair(messages)
    assert repaired.messages == [user(text("plain string"))]


def test_accepts_stored_messages() -> None:
    now = datetime.now(UTC)
    stored = [
        StoredMessage(session_id="s", seq=1, role="user", content=[text("hi")], created=now),
        StoredMessage(session_id="s", seq=2, role="assistant", content=[call("t1")], created=now),
    ]
    repaired = repair_transcript(stored)
    assert_valid(messages_to_wire(repaired.messages))
    assert len(repaired.messages) == 3
