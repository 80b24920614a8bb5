"""A session's status says what its last run did, even when that run was killed (kill -9)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from agent.api import run_agent
from agent.sessions.base import SessionStatus
from agent.sessions.store import SqliteSessionStore
from tests.loop.fakes import MemoryStore
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.runtime.test_run_agent import parts_for


class RecordingStore(SqliteSessionStore):
    """The real store, remembering each status it was given."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.statuses: list[SessionStatus] = []

    def update(self, session_id: str, **fields: Any) -> None:
        if fields.get("status"):
            self.statuses.append(fields["status"])
        super().update(session_id, **fields)


async def test_a_resumed_run_is_running_and_a_dead_holder_leaves_it_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    store = RecordingStore(tmp_path / "sessions.db")
    parts = dataclasses.replace(parts_for(MemoryStore(), []), open_store=lambda: store)
    name = "backend-engineer"
    replies = [sse.reply(sse.text_block(0, f"answer {n}")) for n in range(3)]
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        first = [e async for e in run_agent("one", agent=name, cwd=tmp_path, parts=parts)]
        session = first[-1].session_id
        store.statuses.clear()
        [e async for e in run_agent("two", agent=name, cwd=tmp_path, parts=parts, resume=session)]
        assert store.statuses == ["running", "completed"]  # a kill -9 mid-run leaves `running`

        store.update(session, status="running")  # its holder died: nobody finished it
        store.statuses.clear()
        [e async for e in run_agent("three", agent=name, cwd=tmp_path, parts=parts, resume=session)]
    assert store.statuses == ["interrupted", "running", "completed"]
    assert store.get(session).status == "completed"
