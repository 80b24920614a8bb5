"""The event -> ACP update mapping, fed event sequences the runtime emits (no process needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.acp.updates import UpdateMapper, locations_for, replay_updates
from agent.events import (
    AssistantMessageEvent,
    FileChange,
    ResultEvent,
    SessionStartedEvent,
    SubagentFinishedEvent,
    SubagentStartedEvent,
    TextDeltaEvent,
    ToolCallFinishedEvent,
    ToolCallStartedEvent,
    Usage,
)
from agent.sessions.base import StoredMessage

CWD = Path("/work/project")
CHANGE = FileChange(path=str(CWD / "app.py"), action="update", old_text="a", new_text="b")


def _result(session: str, subtype: str = "success") -> ResultEvent:
    return ResultEvent(session_id=session, subtype=subtype, is_error=subtype != "success", result="r",  # type: ignore[arg-type]
                       num_turns=1, usage=Usage(), total_cost_usd=0.0, duration_ms=1.0)  # fmt: skip


def test_subagent_calls_are_nested_under_the_task_call_and_its_prose_stays_out() -> None:
    mapper = UpdateMapper(cwd=CWD)
    events = [
        SessionStartedEvent(session_id="root", agent="orchestrator", model="m", cwd=str(CWD), tools=[]),
        ToolCallStartedEvent(session_id="root", tool_use_id="t1", name="task", input={}, kind="other",
                             title="task"),
        SubagentStartedEvent(session_id="root", parent_tool_use_id="t1", child_session_id="child",
                             agent="backend-engineer", description="POST /items"),
        SessionStartedEvent(session_id="child", parent_tool_use_id="t1", agent="backend-engineer", model="m",
                            cwd=str(CWD), tools=[]),
        TextDeltaEvent(session_id="child", parent_tool_use_id="t1", text="I will edit"),
        ToolCallStartedEvent(session_id="child", parent_tool_use_id="t1", tool_use_id="t1", name="edit",
                             input={}, kind="edit", title="edit app.py", locations=["app.py:12"]),
        ToolCallFinishedEvent(session_id="child", parent_tool_use_id="t1", tool_use_id="t1", name="edit",
                              output="ok", is_error=False, duration_ms=1.0, changes=[CHANGE]),
        _result("child"),
        SubagentFinishedEvent(session_id="root", parent_tool_use_id="t1", child_session_id="child",
                              agent="backend-engineer", subtype="success", files_changed=["app.py"]),
    ]  # fmt: skip
    updates = [u for e in events for u in mapper.updates(e)]
    kinds = [u.session_update for u in updates]
    assert "agent_message_chunk" not in kinds  # the child's prose reaches the parent as the task result
    task_title = next(u for u in updates if u.session_update == "tool_call_update" and u.title)
    assert task_title.tool_call_id == "t1" and task_title.title == "task → backend-engineer: POST /items"
    child_start = [u for u in updates if u.session_update == "tool_call"][1]
    assert child_start.tool_call_id == "child/t1"  # same raw id as the parent's call, kept apart
    assert child_start.title == "backend-engineer: edit app.py"
    assert child_start.field_meta == {"parentToolCallId": "t1"}
    assert (child_start.locations[0].path, child_start.locations[0].line) == (str(CWD / "app.py"), 12)
    child_done = next(u for u in updates if u.session_update == "tool_call_update"
                      and u.tool_call_id == "child/t1")  # fmt: skip
    assert child_done.status == "completed" and child_done.content[0].type == "diff"
    assert mapper.result is None  # a child's result is not the turn's result
    assert mapper.stop_reason(cancelled=False) == "end_turn"


def test_stop_reasons() -> None:
    for subtype, last_stop, expected in [
        ("success", "end_turn", "end_turn"),
        ("error_max_turns", "tool_use", "max_turn_requests"),
        ("error_during_execution", "refusal", "refusal"),
        ("cancelled", None, "cancelled"),
        ("error_permission_denied", "end_turn", "end_turn"),
    ]:
        mapper = UpdateMapper(cwd=CWD)
        mapper.updates(SessionStartedEvent(session_id="s", agent="a", model="m", cwd=str(CWD), tools=[]))
        if last_stop:
            mapper.updates(AssistantMessageEvent(session_id="s", content=[], stop_reason=last_stop))
        mapper.updates(_result("s", subtype))
        assert mapper.stop_reason(cancelled=False) == expected, subtype
    assert UpdateMapper(cwd=CWD).stop_reason(cancelled=True) == "cancelled"


def test_locations_are_absolute_with_lines() -> None:
    found = locations_for(["src/a.py:3", "/abs/b.py", "c.py"], CWD)
    assert [(x.path, x.line) for x in found] == [(str(CWD / "src/a.py"), 3), ("/abs/b.py", None),
                                                  (str(CWD / "c.py"), None)]  # fmt: skip


def test_replay_turns_stored_messages_into_updates() -> None:
    now = datetime.now(UTC)
    messages = [
        StoredMessage(session_id="s", seq=1, role="user", created=now,
                      content=[{"type": "text", "text": "fix it"}]),
        StoredMessage(session_id="s", seq=2, role="assistant", created=now, content=[
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "u1", "name": "read", "input": {"file_path": "a.py"}},
        ]),
        StoredMessage(session_id="s", seq=3, role="user", created=now, content=[
            {"type": "tool_result", "tool_use_id": "u1", "content": "1\tx", "is_error": False},
        ]),
    ]  # fmt: skip
    updates = replay_updates(messages, CWD)
    assert [u.session_update for u in updates] == [
        "user_message_chunk", "agent_thought_chunk", "agent_message_chunk", "tool_call", "tool_call_update",
    ]  # fmt: skip
    assert updates[3].kind == "read" and updates[3].locations[0].path == str(CWD / "a.py")
    assert updates[4].status == "completed" and updates[4].content[0].content.text == "1\tx"
