"""A store written before the typed transcript (tests/sessions/data/main_store.db) still loads:
resume reads it whole, `sessions export` gives its rows back byte for byte, `sessions show`
renders every kind of block it holds, and ACP replays it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from agent.acp.updates import replay_updates
from agent.paths import data_home
from agent.sessions.repair import repair_transcript
from agent.sessions.store import SqliteSessionStore
from agent.transcript import blocks_to_wire
from tests.conftest import run_subagent

MAIN_STORE = Path(__file__).parent / "data" / "main_store.db"
SESSION = "ses_066204c5291a3daf5ef9"


def _installed() -> Path:
    """The old store as this test's data dir holds it (the fixture itself is never written)."""
    target = data_home() / "sessions.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MAIN_STORE, target)
    return target


def _rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT content FROM messages ORDER BY seq")]


def test_resume_reads_the_old_store_whole_and_needs_no_repair() -> None:
    path = _installed()
    store = SqliteSessionStore(path)
    history = store.messages_for_resume(SESSION)
    assert history.last_seq == 10 and len(history.messages) == 10
    repaired = repair_transcript(history.messages, store.started_tools(SESSION))
    assert repaired.notes == [] and repaired.messages == history.messages
    read_back = [json.dumps(blocks_to_wire(m.content), ensure_ascii=False) for m in history.messages]
    assert read_back == _rows(path)


def test_export_gives_the_stored_rows_back_byte_for_byte() -> None:
    path = _installed()
    lines = run_subagent("sessions", "export", SESSION).stdout.splitlines()
    exported = [json.loads(line)["content"] for line in lines]
    assert [json.dumps(content, ensure_ascii=False) for content in exported] == _rows(path)


def test_show_renders_every_kind_of_block_it_holds() -> None:
    _installed()
    shown = run_subagent("sessions", "show", SESSION).stdout
    assert "(thinking)" in shown and '→ read {"file_path": "dot.png"}  [toolu_02]' in shown
    assert "← /tmp/tr-home/ws/dot.png: image (image/png, 70 bytes)\n    [image]" in shown
    assert "✗ missing.txt: no such file" in shown and "It says hello." in shown


def test_acp_replays_the_old_store() -> None:
    store = SqliteSessionStore(_installed())
    updates = replay_updates(store.messages(SESSION), Path("/tmp/tr-home/ws"))
    kinds = [u.session_update for u in updates]
    assert kinds.count("tool_call") == 5 and kinds.count("tool_call_update") == 5
    assert kinds[:3] == ["user_message_chunk", "agent_thought_chunk", "agent_message_chunk"]
    failed = [u for u in updates if getattr(u, "status", None) == "failed"]
    assert [u.tool_call_id for u in failed] == ["toolu_03"]
