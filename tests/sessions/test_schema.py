"""Migrations: from an empty file and from schema version 1, with data kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.errors import SessionError
from agent.sessions._schema import SCHEMA_VERSION, migrate
from agent.sessions.store import SqliteSessionStore
from agent.transcript import messages_to_wire, parse_messages, text_of


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_empty_database_gets_the_whole_schema(tmp_path: Path) -> None:
    SqliteSessionStore(tmp_path / "s.db").close()
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    expected = {"sessions", "messages", "checkpoints", "tool_starts", "compactions", "marks"}
    assert expected <= _tables(tmp_path / "s.db")


def test_upgrade_from_version_1_keeps_sessions(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO sessions (id, agent, workspace, created, updated) VALUES "
        "('ses_old', 'a', '/w', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    )
    conn.close()
    assert "tool_starts" not in _tables(path)
    store = SqliteSessionStore(path)
    assert store.get("ses_old").agent == "a"
    store.mark_tool_started("ses_old", "toolu_1")
    assert store.started_tools("ses_old") == {"toolu_1"}


def test_upgrade_from_version_2_keeps_messages_and_resumes_from_them(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=2) == 2
    conn.execute(
        "INSERT INTO sessions (id, agent, workspace, created, updated) VALUES "
        "('ses_old', 'a', '/w', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')"
    )
    for seq, role in ((1, "user"), (2, "assistant")):
        conn.execute(
            "INSERT INTO messages (session_id, seq, role, content, created) VALUES (?,?,?,?,?)",
            ("ses_old", seq, role, f'[{{"type": "text", "text": "m{seq}"}}]', "2026-01-01T00:00:00+00:00"),
        )
    conn.close()
    assert "compactions" not in _tables(path)
    store = SqliteSessionStore(path)
    assert [text_of(m.content) for m in store.messages("ses_old")] == [["m1"], ["m2"]]
    resume = store.messages_for_resume("ses_old")
    assert (resume.last_seq, resume.compacted_upto, len(resume.messages)) == (2, 0, 2)
    summary = parse_messages([{"role": "user", "content": "summary"}])
    store.record_compaction("ses_old", 2, summary, "summary", 900, 90)
    resumed = store.messages_for_resume("ses_old").messages
    assert messages_to_wire(resumed) == [{"role": "user", "content": "summary"}]
    assert len(store.messages("ses_old")) == 2


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "s.db")
    sid = store.create(agent="a", workspace=tmp_path).id
    store.close()
    assert SqliteSessionStore(tmp_path / "s.db").get(sid).id == sid


def test_newer_database_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SessionError, match="newer"):
        SqliteSessionStore(tmp_path / "s.db")


class _RaceLoser:
    """A connection that another process beats to the migration, between its check and its write."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.path = path
        self.raced = False

    def execute(self, statement: str, *args: object) -> sqlite3.Cursor:
        if statement == "BEGIN IMMEDIATE" and not self.raced:
            self.raced = True
            winner = sqlite3.connect(self.path, isolation_level=None)
            migrate(winner)
            winner.close()
        return self.conn.execute(statement, *args)


def test_a_migration_another_process_already_ran_is_skipped(tmp_path: Path) -> None:
    loser = _RaceLoser(tmp_path / "s.db")
    assert migrate(loser) == SCHEMA_VERSION  # type: ignore[arg-type]
    assert loser.raced and "sessions" in _tables(tmp_path / "s.db")
