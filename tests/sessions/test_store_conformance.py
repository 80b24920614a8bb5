"""One contract, two stores: the same tests against the SQLite store and the tests' MemoryStore.

The loop's and the runtime's tests run on `tests.loop.fakes.MemoryStore`; what they prove holds
for the real store only while both keep the `SessionStore` protocol (agent/sessions/base.py) the
same way. Each test here runs on both; a difference is a bug in one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.errors import SessionError, SessionLockedError, UnknownSessionError
from agent.events import Usage
from agent.sessions.base import CheckpointRecord, MarkRecord
from agent.sessions.store import SqliteSessionStore
from tests.loop.fakes import MemoryStore


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        real = SqliteSessionStore(tmp_path / "data" / "sessions.db")
        yield real
        real.close()
    else:
        yield MemoryStore(outputs=tmp_path / "outputs")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace.resolve()


def _text(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


def test_create_then_get_by_id_and_by_unique_prefix(store: Any, ws: Path) -> None:
    record = store.create(agent="a", workspace=ws, model="m", title="t")
    assert (record.agent, record.model, record.title, record.status) == ("a", "m", "t", "running")
    assert record.workspace == str(ws) and record.parent_id is None
    assert store.get(record.id) == record
    assert store.get(record.id[:-2]).id == record.id


def test_an_unknown_session_is_an_unknown_session_error(store: Any, ws: Path) -> None:
    store.create(agent="a", workspace=ws)
    with pytest.raises(UnknownSessionError, match="no session 'nope'"):
        store.get("nope")


def test_a_given_id_is_kept_and_a_taken_one_refused(store: Any, ws: Path) -> None:
    assert store.create(agent="a", workspace=ws, session_id="ses_fixed").id == "ses_fixed"
    with pytest.raises(SessionError):
        store.create(agent="a", workspace=ws, session_id="ses_fixed")


def test_latest_is_the_newest_top_level_session_of_the_workspace(
    store: Any, ws: Path, tmp_path: Path
) -> None:
    assert store.latest(ws) is None
    first = store.create(agent="a", workspace=ws)
    second = store.create(agent="a", workspace=ws)
    store.create(agent="child", workspace=ws, parent_id=second.id, parent_tool_use_id="toolu_1")
    store.create(agent="a", workspace=tmp_path)
    assert first.id < second.id
    assert store.latest(ws).id == second.id


def test_list_is_newest_first_per_workspace_with_a_limit(store: Any, ws: Path, tmp_path: Path) -> None:
    ids = [store.create(agent="a", workspace=ws).id for _ in range(3)]
    other = store.create(agent="a", workspace=tmp_path).id
    for sid in [*ids, other]:
        store.update(sid, status="completed")
    assert [r.id for r in store.list(ws)] == ids[::-1]
    assert [r.id for r in store.list(ws, limit=2)] == ids[:0:-1]
    assert [r.id for r in store.list()] == [other, *ids[::-1]]


def test_a_running_session_nobody_holds_lists_as_interrupted(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    assert [r.status for r in store.list(ws)] == ["interrupted"]  # its process is gone
    with store.lock(sid):
        assert [r.status for r in store.list(ws)] == ["running"]


def test_update_changes_only_the_fields_given(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws, model="m", title="t").id
    usage = Usage(input_tokens=10, output_tokens=2)
    store.update(sid, status="completed", usage=usage, cost_usd=0.5, num_turns=3)
    store.update(sid, title="renamed")
    got = store.get(sid)
    assert (got.status, got.usage, got.cost_usd, got.num_turns) == ("completed", usage, 0.5, 3)
    assert (got.title, got.model) == ("renamed", "m")
    with pytest.raises(SessionError):
        store.update("ses_missing", status="completed")


def test_messages_are_numbered_per_session_and_kept_in_order(store: Any, ws: Path) -> None:
    a = store.create(agent="a", workspace=ws).id
    b = store.create(agent="a", workspace=ws).id
    assert store.append_message(a, "user", _text("a1")) == 1
    assert store.append_message(b, "user", _text("b1")) == 1
    assert store.append_message(a, "assistant", _text("a2")) == 2
    assert [(m.seq, m.role, m.content) for m in store.messages(a)] == [
        (1, "user", _text("a1")),
        (2, "assistant", _text("a2")),
    ]
    assert [m.session_id for m in store.messages(b)] == [b]


def test_a_message_needs_a_session_and_a_role(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    with pytest.raises(SessionError):
        store.append_message("ses_missing", "user", _text("x"))
    with pytest.raises(SessionError):
        store.append_message(sid, "system", _text("x"))
    assert store.messages(sid) == []


def test_merge_joins_a_user_message_to_the_stored_user_message_only(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    store.append_message(sid, "user", _text("one"))
    assert store.append_message(sid, "user", _text("two"), merge=True) == 1
    store.append_message(sid, "assistant", _text("reply"))
    assert store.append_message(sid, "user", _text("three"), merge=True) == 3
    assert [m.content for m in store.messages(sid)] == [
        _text("one") + _text("two"),
        _text("reply"),
        _text("three"),
    ]


def test_merge_does_not_join_a_message_a_compaction_covers(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    store.append_message(sid, "user", _text("old"))
    store.record_compaction(sid, 1, [{"role": "user", "content": _text("summary")}], "summary", 100, 10)
    assert store.append_message(sid, "user", _text("new"), merge=True) == 2


def test_resume_starts_from_the_latest_compaction(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    assert store.messages_for_resume(sid).model_dump() == {"messages": [], "last_seq": 0, "compacted_upto": 0}
    for n, role in enumerate(["user", "assistant", "user", "assistant"], start=1):
        store.append_message(sid, role, _text(f"m{n}"))
    summary = [{"role": "user", "content": _text("summary")}]
    store.record_compaction(sid, 1, [{"role": "user", "content": _text("first")}], "elision", 50, 40)
    store.record_compaction(sid, 2, summary, "summary", 100, 10)
    history = store.messages_for_resume(sid)
    assert history.messages == [
        *summary,
        {"role": "user", "content": _text("m3")},
        {"role": "assistant", "content": _text("m4")},
    ]
    assert (history.last_seq, history.compacted_upto) == (4, 2)
    assert [c.upto_seq for c in store.compactions(sid)] == [1, 2]
    assert store.compactions(sid)[1].method == "summary"


def test_fork_copies_the_record_messages_and_compactions_into_a_new_session(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws, model="m", title="t").id
    store.append_message(sid, "user", _text("hello"))
    store.record_compaction(sid, 1, [{"role": "user", "content": _text("s")}], "summary", 9, 1)
    store.update(sid, status="completed", num_turns=2)
    copy = store.fork(sid)
    assert copy.id != sid and copy.status == "running"
    assert (copy.agent, copy.model, copy.title, copy.workspace, copy.num_turns) == ("a", "m", "t", str(ws), 2)
    assert [(m.seq, m.content) for m in store.messages(copy.id)] == [(1, _text("hello"))]
    assert [c.upto_seq for c in store.compactions(copy.id)] == [1]
    store.append_message(copy.id, "assistant", _text("only in the copy"))
    assert len(store.messages(sid)) == 1


def test_tool_starts_are_a_set_per_session(store: Any, ws: Path) -> None:
    a = store.create(agent="a", workspace=ws).id
    b = store.create(agent="a", workspace=ws).id
    store.mark_tool_started(a, "toolu_1")
    store.mark_tool_started(a, "toolu_1")
    store.mark_tool_started(a, "toolu_2")
    assert store.started_tools(a) == {"toolu_1", "toolu_2"} and store.started_tools(b) == set()


def test_checkpoints_by_step_one_per_step(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    now = datetime.now(UTC)
    for step, commit in ((2, "c2"), (1, "c1"), (2, "c2b")):
        store.record_checkpoint(CheckpointRecord(session_id=sid, step=step, commit=commit, created=now))
    assert [(c.step, c.commit) for c in store.checkpoints(sid)] == [(1, "c1"), (2, "c2b")]


def test_marks_of_a_workspace_oldest_first(store: Any, ws: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    late = MarkRecord(workspace=str(ws), commit="b", kind="undo", session_id="s", step=2, created=now)
    early = MarkRecord(workspace=str(ws), commit="a", kind="end", session_id="s", created=now - timedelta(1))
    elsewhere = MarkRecord(workspace=str(tmp_path), commit="c", kind="end", session_id="s", created=now)
    for mark in (late, early, elsewhere):
        store.record_mark(mark)
    assert store.marks(ws) == [early, late]


def test_a_held_session_cannot_be_held_again(store: Any, ws: Path) -> None:
    sid = store.create(agent="a", workspace=ws).id
    with store.lock(sid):
        with pytest.raises(SessionLockedError), store.lock(sid):
            pass
    with store.lock(sid):  # released
        pass


def test_each_session_has_its_own_output_folder(store: Any, ws: Path) -> None:
    a = store.create(agent="a", workspace=ws).id
    b = store.create(agent="a", workspace=ws).id
    assert store.output_dir(a).is_dir() and store.output_dir(a) != store.output_dir(b)
