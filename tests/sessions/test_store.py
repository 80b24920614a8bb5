"""Conformance of the SQLite session store, including locks across real processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import SessionError, SessionLockedError, UnknownSessionError
from agent.events import Usage
from agent.sessions.base import CheckpointRecord
from agent.sessions.store import SqliteSessionStore, new_session_id
from agent.transcript import parse_blocks
from tests.conftest import subprocess_env


@pytest.fixture
def store(tmp_path: Path) -> SqliteSessionStore:
    return SqliteSessionStore(tmp_path / "sessions.db")


def test_default_path_is_in_the_data_home(tmp_path: Path) -> None:
    from agent import paths

    assert SqliteSessionStore().path == paths.data_home() / "sessions.db"


def test_ids_sort_by_creation_time() -> None:
    ids = [new_session_id() for _ in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
    assert all(i.startswith("ses_") for i in ids)


def test_create_and_get_by_full_id_and_unique_prefix(store: SqliteSessionStore, tmp_path: Path) -> None:
    created = store.create(agent="backend-engineer", workspace=tmp_path, model="m", title="t")
    assert created.status == "running"
    assert created.workspace == str(tmp_path.resolve())
    assert store.get(created.id) == created
    assert store.get(created.id[:-2]).id == created.id


def test_get_unknown_and_ambiguous(store: SqliteSessionStore, tmp_path: Path) -> None:
    store.create(agent="a", workspace=tmp_path, session_id="ses_abc1")
    store.create(agent="a", workspace=tmp_path, session_id="ses_abc2")
    with pytest.raises(UnknownSessionError, match="no session"):  # a usage error: exit 2
        store.get("ses_zzz")
    with pytest.raises(UnknownSessionError, match="ambiguous"):
        store.get("ses_abc")
    with pytest.raises(UnknownSessionError, match="no session"):
        store.get("ses%")  # LIKE wildcards are literal


def test_list_newest_first_and_by_workspace(store: SqliteSessionStore, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    first = store.create(agent="a", workspace=one)
    second = store.create(agent="a", workspace=two)
    third = store.create(agent="a", workspace=one)
    assert [s.id for s in store.list()] == [third.id, second.id, first.id]
    assert [s.id for s in store.list(one)] == [third.id, first.id]
    assert [s.id for s in store.list(limit=1)] == [third.id]


def test_latest_skips_children(store: SqliteSessionStore, tmp_path: Path) -> None:
    assert store.latest(tmp_path) is None
    parent = store.create(agent="a", workspace=tmp_path)
    store.create(agent="b", workspace=tmp_path, parent_id=parent.id, parent_tool_use_id="toolu_1")
    latest = store.latest(tmp_path)
    assert latest is not None and latest.id == parent.id


def test_append_and_read_messages(store: SqliteSessionStore, tmp_path: Path) -> None:
    sid = store.create(agent="a", workspace=tmp_path).id
    content = parse_blocks([{"type": "text", "text": "héllo"}])
    assert store.append_message(sid, "user", content) == 1
    tool = parse_blocks([{"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"file_path": "x"}}])
    assert store.append_message(sid, "assistant", tool) == 2
    stored = store.messages(sid)
    assert [(m.seq, m.role, m.content) for m in stored] == [(1, "user", content), (2, "assistant", tool)]
    with pytest.raises(SessionError):
        store.append_message(sid, "system", content)
    with pytest.raises(SessionError):
        store.append_message("ses_missing", "user", content)


def test_message_is_visible_to_another_connection_at_once(store: SqliteSessionStore, tmp_path: Path) -> None:
    """Committed as appended: a second reader (another process after a crash) sees it."""
    sid = store.create(agent="a", workspace=tmp_path).id
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "hi"}]))
    other = sqlite3.connect(store.path)
    assert other.execute("SELECT COUNT(*) FROM messages WHERE session_id = ?", (sid,)).fetchone() == (1,)
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_update(store: SqliteSessionStore, tmp_path: Path) -> None:
    sid = store.create(agent="a", workspace=tmp_path).id
    usage = Usage(input_tokens=10, output_tokens=3, cache_read_input_tokens=7)
    store.update(sid, status="completed", usage=usage, cost_usd=0.5, num_turns=4, title="x", model="m2")
    got = store.get(sid)
    assert (got.status, got.usage, got.cost_usd, got.num_turns, got.title, got.model) == (
        "completed",
        usage,
        0.5,
        4,
        "x",
        "m2",
    )
    store.update(sid, num_turns=5)
    assert store.get(sid).status == "completed"
    with pytest.raises(SessionError):
        store.update("ses_missing", status="error")


def test_fork_copies_messages_not_checkpoints(store: SqliteSessionStore, tmp_path: Path) -> None:
    sid = store.create(agent="a", workspace=tmp_path, title="orig").id
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "one"}]))
    store.append_message(sid, "assistant", parse_blocks([{"type": "text", "text": "two"}]))
    fork = store.fork(sid)
    assert fork.id != sid and fork.title == "orig" and fork.agent == "a"
    assert [m.content for m in store.messages(fork.id)] == [m.content for m in store.messages(sid)]
    store.append_message(fork.id, "user", parse_blocks([{"type": "text", "text": "three"}]))
    assert len(store.messages(sid)) == 2


def test_checkpoints_round_trip(store: SqliteSessionStore, tmp_path: Path) -> None:
    sid = store.create(agent="a", workspace=tmp_path).id
    now = datetime.now(UTC)
    for step in (2, 1):
        store.record_checkpoint(
            CheckpointRecord(
                session_id=sid,
                step=step,
                commit="c" * 40 + str(step),
                tool_use_id=f"t{step}",
                label=f"edit {step}",
                created=now,
            )
        )
    assert [(c.step, c.label) for c in store.checkpoints(sid)] == [(1, "edit 1"), (2, "edit 2")]


def test_tool_start_markers(store: SqliteSessionStore, tmp_path: Path) -> None:
    sid = store.create(agent="a", workspace=tmp_path).id
    store.mark_tool_started(sid, "toolu_1")
    store.mark_tool_started(sid, "toolu_1")
    assert store.started_tools(sid) == {"toolu_1"}


def test_output_dir(store: SqliteSessionStore, tmp_path: Path) -> None:
    out = store.output_dir("ses_1")
    assert out == tmp_path / "outputs" / "ses_1" and out.is_dir()


def test_lock_in_one_process(store: SqliteSessionStore) -> None:
    with store.lock("ses_1"):
        with pytest.raises(SessionLockedError, match="in use"):
            with store.lock("ses_1"):
                pass
        with store.lock("ses_2"):
            pass
    with store.lock("ses_1"):
        pass


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from agent.sessions.store import SqliteSessionStore
    store = SqliteSessionStore(Path(sys.argv[1]))
    with store.lock(sys.argv[2]):
        print("held", flush=True)
        time.sleep(60)
""")


def test_lock_across_processes_and_recovery_after_kill_9(store: SqliteSessionStore) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store.path), "ses_x"],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SessionLockedError, match=f"pid {holder.pid}"):
            with store.lock("ses_x"):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with store.lock("ses_x"):
        pass


def test_a_killed_running_session_lists_as_interrupted(store: SqliteSessionStore, tmp_path: Path) -> None:
    record = store.create(agent="a", workspace=tmp_path)  # status running, as a run leaves it
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store.path), record.id],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert [s.status for s in store.list()] == ["running"]  # a live process holds it
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert [s.status for s in store.list()] == ["interrupted"]
    assert store.get(record.id).status == "running"  # what is stored; a resume records the change


def test_implements_every_protocol_method_with_its_parameters() -> None:
    import inspect

    from agent.sessions.base import SessionStore

    for name, member in vars(SessionStore).items():
        if name.startswith("_") or not callable(member):
            continue
        ours = inspect.signature(getattr(SqliteSessionStore, name))
        assert list(ours.parameters) == list(inspect.signature(member).parameters), name
