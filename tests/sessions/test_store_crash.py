"""Every appended message is durable: kill -9 a writer mid-stream, then read and repair; also when
its commits do not wait for the disk (a session tree's children: only an OS crash or a power loss
could take those back)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.sessions.repair import repair_transcript
from agent.sessions.store import SqliteSessionStore
from agent.transcript import ToolResultBlock, parse_blocks
from tests.conftest import subprocess_env

_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from agent.sessions.store import SqliteSessionStore
    from agent.transcript import ToolResultBlock, parse_blocks
    store = SqliteSessionStore(Path(sys.argv[1]))
    sid = sys.argv[2]
    if sys.argv[3] == "relaxed":
        store.relax_commits()
    with store.lock(sid):
        i = 0
        while True:
            i += 1
            tool = {"type": "tool_use", "id": f"t{i}", "name": "bash", "input": {"command": "x" * 500}}
            turn = parse_blocks([{"type": "text", "text": f"turn {i}"}, tool])
            store.append_message(sid, "assistant", turn)
            store.mark_tool_started(sid, f"t{i}")
            seq = store.append_message(sid, "user", parse_blocks([{"type": "tool_result",
                                                                   "tool_use_id": f"t{i}", "content": "ok"}]))
            print(seq, flush=True)
""")


@pytest.mark.parametrize("commits", ["durable", "relaxed"])
def test_kill_9_during_appends_loses_nothing_committed(tmp_path: Path, commits: str) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    sid = store.create(agent="a", workspace=tmp_path).id
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "go"}]))
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store.path), sid, commits],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    assert writer.stdout is not None
    last = 0
    for line in writer.stdout:
        last = int(line)
        if last >= 41:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    fresh = SqliteSessionStore(store.path)
    messages = fresh.messages(sid)
    assert len(messages) >= last
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    assert sqlite3.connect(store.path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    repaired = repair_transcript(messages, fresh.started_tools(sid))
    assert repaired.messages[-1].role == "user"
    if messages[-1].role == "assistant":  # killed between the call and its result
        answer = repaired.messages[-1].content[0]
        assert isinstance(answer, ToolResultBlock) and answer.is_error is True
    with fresh.lock(sid):  # the dead writer's lock is gone
        pass


async def test_concurrent_appends_from_threads(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    sid = store.create(agent="a", workspace=tmp_path).id
    content = parse_blocks([{"type": "text", "text": "x"}])
    seqs = await asyncio.gather(
        *(asyncio.to_thread(store.append_message, sid, "user", content) for _ in range(40))
    )
    assert sorted(seqs) == list(range(1, 41))
    assert len(store.messages(sid)) == 40


def test_two_processes_append_to_one_database(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    ids = [store.create(agent="a", workspace=tmp_path).id for _ in range(2)]
    script = (
        "import sys; from pathlib import Path; from agent.sessions.store import SqliteSessionStore\n"
        "from agent.transcript import TextBlock\n"
        "s = SqliteSessionStore(Path(sys.argv[1]))\n"
        "for _ in range(30): s.append_message(sys.argv[2], 'user', [TextBlock(text='x')])\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(store.path), sid], env=subprocess_env())
        for sid in ids
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert [len(store.messages(sid)) for sid in ids] == [30, 30]


def test_relaxed_commits_do_not_wait_for_the_disk_and_others_still_do(tmp_path: Path) -> None:
    """`synchronous` is per connection: a store opened beside a relaxed one still waits (FULL)."""
    relaxed = SqliteSessionStore(tmp_path / "s.db")
    relaxed.relax_commits()
    durable = SqliteSessionStore(tmp_path / "s.db")
    synchronous = "PRAGMA synchronous"
    assert (relaxed.durable, relaxed._query(synchronous)) == (False, [(1,)])  # NORMAL
    assert (durable.durable, durable._query(synchronous)) == (True, [(2,)])  # FULL
    assert relaxed._query("PRAGMA journal_mode") == [("wal",)]  # NORMAL is safe in WAL mode only
