"""`subagent sessions ...` and `subagent undo` as real subprocesses over a store seeded directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.sessions.base import CheckpointRecord
from agent.sessions.checkpoints import ShadowRepo
from agent.sessions.store import SqliteSessionStore
from agent.transcript import parse_blocks
from tests.conftest import run_subagent


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, Path]:
    """A session that edited app.py (step 1) and then created new.txt and deleted gone.txt (step 2)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("v1\n")
    (ws / "gone.txt").write_text("bye\n")
    store = SqliteSessionStore()
    sid = store.create(agent="backend-engineer", workspace=ws, model="claude-x", title="fix app").id
    repo = ShadowRepo(ws)
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "Please fix app.py"}]))
    store.append_message(
        sid,
        "assistant",
        parse_blocks(
            [
                {"type": "text", "text": "Editing it now."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "edit",
                    "input": {"file_path": "app.py", "old_string": "v1", "new_string": "v2"},
                },
            ]
        ),
    )
    now = datetime.now(UTC)
    store.record_checkpoint(
        CheckpointRecord(
            session_id=sid,
            step=1,
            commit=repo.snapshot("edit app.py"),
            tool_use_id="toolu_1",
            label="edit app.py",
            created=now,
        )
    )
    (ws / "app.py").write_text("v2\n")
    store.append_message(
        sid,
        "user",
        parse_blocks(
            [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "\n".join(f"line {i}" for i in range(10)),
                }
            ]
        ),
    )
    store.append_message(
        sid,
        "assistant",
        parse_blocks(
            [
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "bash",
                    "input": {"command": "touch new.txt; rm gone.txt"},
                }
            ]
        ),
    )
    store.record_checkpoint(
        CheckpointRecord(
            session_id=sid,
            step=2,
            commit=repo.snapshot("bash"),
            tool_use_id="toolu_2",
            label="bash: touch new.txt",
            created=now,
        )
    )
    (ws / "new.txt").write_text("new\n")
    (ws / "gone.txt").unlink()
    store.append_message(
        sid, "user", parse_blocks([{"type": "tool_result", "tool_use_id": "toolu_2", "content": ""}])
    )
    store.append_message(sid, "assistant", parse_blocks([{"type": "text", "text": "Done."}]))
    store.update(sid, status="completed", num_turns=3)
    return sid, ws


def test_list_in_workspace_and_all(seeded: tuple[str, Path], tmp_path: Path) -> None:
    sid, ws = seeded
    listed = run_subagent("sessions", "list", cwd=ws)
    assert listed.returncode == 0, listed.stderr
    assert sid in listed.stdout and "completed" in listed.stdout and "fix app" in listed.stdout
    elsewhere = run_subagent("sessions", "list", "--json", "--cwd", str(tmp_path))
    assert json.loads(elsewhere.stdout) == []
    everything = json.loads(run_subagent("sessions", "list", "--all", "--json").stdout)
    assert [s["id"] for s in everything] == [sid]


def test_show_transcript_and_checkpoint_files(seeded: tuple[str, Path]) -> None:
    sid, _ = seeded
    shown = run_subagent("sessions", "show", sid[:12])
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "Please fix app.py" in out and "Editing it now." in out
    assert '→ edit {"file_path": "app.py"' in out
    assert "line 0" in out and "line 3" not in out and "7 more lines" in out
    assert "step 1" in out and "modified app.py" in out
    assert "step 2" in out and "added new.txt" in out and "deleted gone.txt" in out


def test_show_json(seeded: tuple[str, Path]) -> None:
    sid, _ = seeded
    data = json.loads(run_subagent("sessions", "show", sid, "--json").stdout)
    assert data["session"]["id"] == sid and len(data["messages"]) == 6
    assert [c["files"] for c in data["checkpoints"]] == [
        ["modified app.py"],
        ["deleted gone.txt", "added new.txt"],
    ]


def test_show_unknown_session_fails_clearly() -> None:
    shown = run_subagent("sessions", "show", "ses_nope")
    assert shown.returncode == 2 and "no session 'ses_nope'" in shown.stderr


def test_export_json_lines(seeded: tuple[str, Path]) -> None:
    sid, _ = seeded
    lines = run_subagent("sessions", "export", sid).stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert json.loads(lines[1])["content"][1]["input"]["new_string"] == "v2"


def test_undo_without_tty_or_yes_refuses(seeded: tuple[str, Path]) -> None:
    _, ws = seeded
    refused = run_subagent("undo", cwd=ws, input="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "delete   new.txt" in refused.stdout and "restore  gone.txt" in refused.stdout
    assert (ws / "new.txt").exists()


def test_undo_walks_back_step_by_step(seeded: tuple[str, Path]) -> None:
    _, ws = seeded
    first = run_subagent("undo", "--yes", cwd=ws)
    assert first.returncode == 0, first.stderr
    assert "before step 2" in first.stdout
    assert not (ws / "new.txt").exists() and (ws / "gone.txt").read_text() == "bye\n"
    assert (ws / "app.py").read_text() == "v2\n"
    second = run_subagent("undo", "--yes", "--cwd", str(ws))
    assert "before step 1" in second.stdout and (ws / "app.py").read_text() == "v1\n"
    third = run_subagent("undo", "--yes", cwd=ws)
    assert third.returncode == 0 and "nothing to undo" in third.stdout


def test_undo_to_a_step_of_a_named_session(seeded: tuple[str, Path], tmp_path: Path) -> None:
    sid, ws = seeded
    done = run_subagent("undo", "--session", sid, "--to", "1", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in ws.iterdir()) == ["app.py", "gone.txt"]
    assert (ws / "app.py").read_text() == "v1\n"
    missing = run_subagent("undo", "--session", sid, "--to", "9", "--yes")
    assert missing.returncode == 2 and "steps: 1, 2" in missing.stderr


def test_undo_with_no_session_here(tmp_path: Path) -> None:
    result = run_subagent("undo", "--yes", cwd=tmp_path)
    assert result.returncode == 2 and "no session in" in result.stderr


def test_undo_with_a_missing_checkpoint_commit_fails_clearly(tmp_path: Path) -> None:
    store = SqliteSessionStore()
    sid = store.create(agent="a", workspace=tmp_path).id
    store.record_checkpoint(
        CheckpointRecord(session_id=sid, step=1, commit="0" * 40, created=datetime.now(UTC))
    )
    result = run_subagent("undo", "--yes", cwd=tmp_path)
    assert result.returncode == 1 and "checkpoint repository" in result.stderr
    assert "Traceback" not in result.stderr
