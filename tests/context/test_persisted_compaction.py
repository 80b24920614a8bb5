"""Compactions are stored: a resumed run starts from the latest one instead of compacting again.

Each run is a real `run_agent` against the caching server (every request passes
`tests.request_check`) with a real SQLite store; the window comes from the workspace config.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from agent.sessions.store import SqliteSessionStore
from agent.transcript import ToolResultBlock, parse_blocks
from tests.conftest import run_subagent
from tests.context.cache_server import CachingMessagesServer, Turn
from tests.context.driver import MODEL, is_summary_request, run_session, scripted, write_config

GOAL = "Survey the notes folder and report what each note is about."
SUMMARY = "Goal: survey the notes.\nState: notes 0-19 surveyed (SUMMARY-MARK).\nNext: report."
WINDOW, RESERVE = 30_000, 6_000


def _workspace(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    (workspace / "notes").mkdir(parents=True)
    (workspace / "notes" / "a.txt").write_text("a note\n")
    write_config(workspace, window=WINDOW, reserve=RESERVE)
    return workspace


def _long_turn(n: int) -> Turn:
    """About 1,000 tokens of assistant text a turn (nothing to elide), and a small tool call."""
    if n == 29:
        return Turn(text="Surveyed every note.")
    thoughts = f"Step {n}: note {n} looks at " + "the survey of notes continues " * 120
    return Turn(text=thoughts, tools=[(f"toolu_g{n}", "glob", {"pattern": f"notes/*{n}*"})])


def _summary_requests(server: CachingMessagesServer) -> int:
    return sum(is_summary_request(body) for body in server.requests)


async def _compacted_session(workspace: Path, store: SqliteSessionStore) -> str:
    """Run 1: a 30-turn session that needs a summary to stay in the window; its session id."""
    with CachingMessagesServer(scripted(_long_turn, SUMMARY), window=WINDOW) as server:
        events = await run_session(workspace, server.url, GOAL, max_turns=40, store=store)
    assert events[-1].subtype == "success", events[-1]
    assert not server.violations and not server.over_window
    assert "summary" in {e.method for e in events if e.type == "compaction"}
    assert _summary_requests(server) >= 1
    return events[0].session_id


async def test_a_resumed_run_starts_from_the_stored_compaction(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    store = SqliteSessionStore()
    sid = await _compacted_session(workspace, store)
    records = store.compactions(sid)
    assert records and records[-1].method in ("summary", "elision")
    assert any(r.method == "summary" for r in records)
    full = store.messages(sid)
    resume = store.messages_for_resume(sid)
    assert resume.last_seq == full[-1].seq and 0 < resume.compacted_upto < resume.last_seq
    assert len(resume.messages) < len(full)

    report = scripted(lambda n: Turn(text="Report: one note."), SUMMARY)
    with CachingMessagesServer(report, window=WINDOW) as server:
        events = await run_session(
            workspace, server.url, "Now write the report.", max_turns=5, store=store, resume=sid
        )
    assert events[-1].subtype == "success", events[-1]
    assert not server.violations and not server.over_window
    assert _summary_requests(server) == 0, "run 2 summarized again instead of using the stored compaction"
    assert not [e for e in events if e.type == "compaction"]
    first = server.requests[0]
    assert "SUMMARY-MARK" in json.dumps(first["messages"])
    assert "Step 0: note 0" not in json.dumps(first["messages"])
    assert server.cache.tokens(first) < (WINDOW - RESERVE) * 6 // 10
    assert first["messages"][-1]["content"][-1]["text"] == "Now write the report."
    # Nothing was deleted: the store and `sessions show` keep the whole transcript.
    assert [m.seq for m in store.messages(sid)] == list(range(1, len(full) + 3))
    shown = run_subagent("sessions", "show", sid)
    assert shown.returncode == 0, shown.stderr
    assert "Step 0: note 0" in shown.stdout and "Now write the report." in shown.stdout
    assert f"[{len(full) + 2}] assistant" in shown.stdout
    assert shown.stdout.count("── compacted (") == len(records)
    exported = [json.loads(line) for line in run_subagent("sessions", "export", sid).stdout.splitlines()]
    assert [line["seq"] for line in exported if "seq" in line] == list(range(1, len(full) + 3))
    assert [line["compaction"]["upto_seq"] for line in exported if "compaction" in line] == [
        r.upto_seq for r in records
    ]


async def test_a_crash_after_a_compaction_resumes_into_a_valid_request(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    store = SqliteSessionStore()
    sid = await _compacted_session(workspace, store)
    # The process dies after storing a reply with a tool call, before its result.
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "Check note a."}]))
    call = {"type": "tool_use", "id": "toolu_dead", "name": "glob", "input": {"pattern": "notes/*"}}
    store.append_message(sid, "assistant", parse_blocks([call]))
    with CachingMessagesServer(scripted(lambda n: Turn(text="Checked."), SUMMARY), window=WINDOW) as server:
        events = await run_session(workspace, server.url, "Go on.", max_turns=5, store=store, resume=sid)
    assert events[-1].subtype == "success", events[-1]
    assert not server.violations, server.violations  # every tool_use answered, roles alternate
    assert _summary_requests(server) == 0
    sent = json.dumps(server.requests[0]["messages"])
    assert "SUMMARY-MARK" in sent and "toolu_dead" in sent and "Interrupted" in sent


async def test_a_compaction_of_a_repaired_history_covers_the_stored_answers(tmp_path: Path) -> None:
    """`/compact` right after a crash: repair's stored answers are the last message it covers; the
    next prompt joins them in memory (one user message) and is stored after them."""
    workspace = _workspace(tmp_path)
    store = SqliteSessionStore()
    sid = await _compacted_session(workspace, store)
    for n in range(8):  # enough new turns after the stored compaction to summarize again
        store.append_message(
            sid, "user", parse_blocks([{"type": "text", "text": f"More {n}: " + "detail " * 600}])
        )
        store.append_message(sid, "assistant", parse_blocks([{"type": "text", "text": f"Noted {n}."}]))
    call = {"type": "tool_use", "id": "toolu_dead", "name": "glob", "input": {"pattern": "notes/*"}}
    store.append_message(sid, "user", parse_blocks([{"type": "text", "text": "Check note a."}]))
    store.append_message(sid, "assistant", parse_blocks([call]))
    with CachingMessagesServer(scripted(lambda n: Turn(text="Checked."), SUMMARY), window=WINDOW) as server:
        events = await run_session(
            workspace, server.url, None, max_turns=5, store=store, resume=sid, compact_only=True
        )
        assert events[-1].subtype == "success" and events[-1].result.startswith("compacted"), events[-1]
        last = store.messages(sid)[-1]
        answer = last.content[0]
        assert last.role == "user" and isinstance(answer, ToolResultBlock)
        assert answer.tool_use_id == "toolu_dead"  # repair's answer
        assert store.compactions(sid)[-1].upto_seq == last.seq
        assert len(server.requests) == 1 and _summary_requests(server) == 1
        events = await run_session(workspace, server.url, "Go on.", max_turns=5, store=store, resume=sid)
    assert events[-1].subtype == "success", events[-1]
    assert not server.violations and _summary_requests(server) == 1
    assert server.requests[-1]["messages"][-1]["content"][-1]["text"] == "Go on."


async def test_chat_compact_compacts_now_and_the_next_prompt_starts_from_it(tmp_path: Path) -> None:
    from agent.chat.app import ChatApp
    from agent.chat.state import ChatState
    from agent.model.anthropic_client import AnthropicModel

    workspace = _workspace(tmp_path)
    store = SqliteSessionStore()
    short = scripted(lambda n: _long_turn(n) if n < 6 else Turn(text="Six notes done."), SUMMARY)
    with CachingMessagesServer(short, window=WINDOW) as server:
        events = await run_session(workspace, server.url, GOAL, max_turns=10, store=store)
    assert not [e for e in events if e.type == "compaction"]  # well inside the window
    sid = events[0].session_id

    out = io.StringIO()
    state = ChatState(cwd=workspace, agent="backend-engineer", model=MODEL, session_id=sid)
    replies = scripted(lambda n: Turn(text="Reported."), SUMMARY)
    with CachingMessagesServer(replies, window=WINDOW) as server:
        client = AnthropicModel(api_key="test-key", base_url=server.url)
        app = ChatApp(state, Console(file=out, width=200), model_client=client, permission_mode="bypass")
        assert await app.commands.run("/compact") is False
        assert len(server.requests) == 1 and _summary_requests(server) == 1  # no model turn
        text = out.getvalue()
        assert "compacted (summary):" in text and "→" in text, text
        assert "0 turns" in text
        record = store.compactions(sid)[-1]
        assert record.method == "summary" and record.tokens_after < record.tokens_before
        assert state.context_tokens == record.tokens_after
        await app.turn("Write the report.")
        assert len(server.requests) == 2 and _summary_requests(server) == 1
        sent = json.dumps(server.requests[1]["messages"])
        assert "SUMMARY-MARK" in sent and "Step 0: note 0" not in sent
        assert not server.violations


async def test_compact_with_nothing_to_compact_says_so_and_records_nothing(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    store = SqliteSessionStore()
    with CachingMessagesServer(scripted(lambda n: Turn(text="Hi."), SUMMARY), window=WINDOW) as server:
        first = await run_session(workspace, server.url, "Say hi.", max_turns=3, store=store)
        sid = first[0].session_id
        events = await run_session(
            workspace, server.url, None, max_turns=3, store=store, resume=sid, compact_only=True
        )
    result = events[-1]
    assert result.subtype == "success" and result.num_turns == 0
    assert result.result.startswith("nothing to compact")
    assert len(server.requests) == 1 and store.compactions(sid) == []


async def test_pre_compact_hooks_fire_before_each_compaction_with_their_trigger(tmp_path: Path) -> None:
    """Claude Code's PreCompact: `auto` when the window filled, `manual` for `/compact`."""
    import yaml

    workspace = _workspace(tmp_path)
    config_file = workspace / ".subagent" / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    log = "cat >> precompact.jsonl; echo >> precompact.jsonl"
    config["hooks"] = {"PreCompact": [{"matcher": "", "hooks": [{"type": "command", "command": log}]}]}
    config_file.write_text(yaml.safe_dump(config))
    store = SqliteSessionStore()
    with CachingMessagesServer(scripted(_long_turn, SUMMARY), window=WINDOW) as server:
        events = await run_session(workspace, server.url, GOAL, 40, store, sandboxed=True, trust=True)
    assert events[-1].subtype == "success", events[-1]
    sid = events[0].session_id
    autos = [json.loads(line) for line in (workspace / "precompact.jsonl").read_text().splitlines() if line]
    assert autos and {a["trigger"] for a in autos} == {"auto"}, autos
    assert autos[0]["hook_event_name"] == "PreCompact" and autos[0]["session_id"] == sid
    for n in range(8):  # enough new turns to summarize again
        store.append_message(
            sid, "user", parse_blocks([{"type": "text", "text": f"More {n}: " + "detail " * 600}])
        )
        store.append_message(sid, "assistant", parse_blocks([{"type": "text", "text": f"Noted {n}."}]))
    with CachingMessagesServer(scripted(lambda n: Turn(text="Checked."), SUMMARY), window=WINDOW) as server:
        events = await run_session(
            workspace, server.url, None, 5, store, sandboxed=True, trust=True, resume=sid, compact_only=True
        )
    assert events[-1].result.startswith("compacted"), events[-1]
    lines = [json.loads(line) for line in (workspace / "precompact.jsonl").read_text().splitlines() if line]
    assert lines[len(autos) :] and lines[-1]["trigger"] == "manual", lines
    assert any(e.type == "hook" and e.hook_event == "PreCompact" and not e.failed for e in events), [
        e.type for e in events
    ]
