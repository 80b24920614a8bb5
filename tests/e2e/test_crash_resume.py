"""Crash safety end to end: a real `subagent run` killed at chosen moments, then resumed.

A local server stalls on purpose (tests/e2e/stall_server.py), so each kill lands at a known
point: in the middle of a model stream, while a bash tool runs, and after a tool result was
stored but before the next reply completed. The resumed run must send only valid requests
(tests/request_check.py), and the stored transcript must be whole: the cut-off reply gone, a
dangling tool call answered as interrupted (saying whether it had started), nothing duplicated.
Also: a second run on a held session is refused, `--fork` copies, and Ctrl-C cancels cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.paths import config_home
from agent.sessions.repair import repair_transcript
from agent.sessions.store import SqliteSessionStore
from agent.transcript import interrupted_text, messages_to_wire, parse_messages
from tests.conftest import run_subagent, subagent_argv, subprocess_env
from tests.e2e._runs import LiveRun, resume, shown, stop_leftovers, stored
from tests.e2e.stall_server import Stall, StallServer
from tests.model import sse
from tests.processes import appears, gone, kill_all_with, live_processes_with
from tests.request_check import check_request

pytestmark = pytest.mark.slow

DONE = sse.reply(sse.text_block(0, "Done."))


def _partial_text(text: str) -> str:
    """A text block that started and got deltas, but never stopped."""
    start = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    out = sse.event("content_block_start", start)
    for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        out += sse.event("content_block_delta", delta)
    return out


def _bash_call(tool_id: str, command: str) -> str:
    return sse.reply(sse.tool_block(0, tool_id, "bash", {"command": command}), stop_reason="tool_use")


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"] for b in blocks if b.get("type") == "text"]


def _results(messages: list[dict[str, Any]], tool_id: str) -> list[dict[str, Any]]:
    return [b for m in messages for b in m["content"] if b.get("tool_use_id") == tool_id]


def _assert_whole(messages: list[dict[str, Any]]) -> None:
    """Every tool call stored once and answered once, no assistant message stored twice."""
    uses = Counter(b["id"] for m in messages for b in m["content"] if b.get("type") == "tool_use")
    answers = Counter(
        b["tool_use_id"] for m in messages for b in m["content"] if b.get("type") == "tool_result"
    )
    assert all(n == 1 for n in uses.values()), f"a tool call stored twice: {uses}"
    assert answers == uses, f"tool calls {dict(uses)} vs results {dict(answers)}"
    replies = Counter(json.dumps(m["content"], sort_keys=True) for m in messages if m["role"] == "assistant")
    assert all(n == 1 for n in replies.values()), f"an assistant message stored twice: {replies}"
    prompts = Counter(t for m in messages if m["role"] == "user" for t in _texts(m["content"]))
    assert all(n == 1 for n in prompts.values()), f"a prompt stored twice: {prompts}"


def _resume_and_check(
    session_id: str, cwd: Path, latest: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Resume with "continue" (`--continue` when `latest`); every request valid.

    Returns (the first request's messages, the stored messages afterwards).
    """
    with StallServer([DONE]) as server:
        result = resume(None if latest else session_id, "continue", server.url, cwd)
    assert (result["subtype"], result["session_id"], result["result"]) == ("success", session_id, "Done.")
    assert len(server.requests) == 1
    for body in server.requests:
        check_request(body)
    messages = stored(session_id)
    _assert_whole(messages)
    assert _texts(messages[-1]["content"]) == ["Done."]
    repaired = repair_transcript(parse_messages(messages))  # what the next resume would send: nothing to fix
    assert set(repaired.notes) <= {"merged two consecutive user messages"}, repaired.notes
    check_request({"messages": messages_to_wire(repaired.messages)})
    return server.requests[0]["messages"], messages


@pytest.fixture(autouse=True)
def _stop_runs() -> Iterator[None]:
    """A test that fails halfway must not leave a `subagent run` behind."""
    yield
    stop_leftovers()


@pytest.fixture
def sleeper() -> Iterator[str]:
    """A unique argv[0] for the long `sleep` a tool call runs, so the test can find it in /proc."""
    name = f"subagent-crash-test-{uuid.uuid4().hex[:8]}"
    yield name
    kill_all_with(name)


def test_kill_in_the_middle_of_a_model_stream(tmp_path: Path) -> None:
    """Killed after some text deltas, while a tool call's input was still streaming."""
    text = sse.text_block(0, "Let me look at the files first.")
    cut = sse.tool_block(1, "toolu_cut", "bash", {"command": "echo never run > cut.txt"}, stop=False)
    with StallServer([Stall(sse.message_start() + sse.ping() + text + cut)]) as server:
        run = LiveRun("look around", url=server.url, cwd=tmp_path)
        session_id = run.wait_event("session_started")["session_id"]
        assert run.wait_event("text_delta")["text"] == "Let me look at ", "the stream had begun"
        assert server.stalled.wait(30)
        run.kill()
    assert [m["role"] for m in stored(session_id)] == ["user"]

    first, messages = _resume_and_check(session_id, tmp_path)
    assert len(first) == 1, "the cut-off reply must not be sent"
    assert first[0]["role"] == "user" and _texts(first[0]["content"]) == ["look around", "continue"]
    assert "toolu_cut" not in json.dumps(messages) and "Let me look" not in json.dumps(messages)
    assert not (tmp_path / "cut.txt").exists()


@pytest.mark.bwrap  # bash runs in the sandbox
def test_kill_while_a_tool_runs(tmp_path: Path, sleeper: str) -> None:
    with StallServer([_bash_call("toolu_sleep", f"exec -a {sleeper} sleep 30")]) as server:
        run = LiveRun("wait a while", url=server.url, cwd=tmp_path)
        session_id = run.wait_event("session_started")["session_id"]
        appears(sleeper)
        run.kill()
    assert gone(sleeper, 10), f"the tool's process outlived the killed run: {live_processes_with(sleeper)}"
    assert "toolu_sleep" in SqliteSessionStore().started_tools(session_id)

    first, messages = _resume_and_check(session_id, tmp_path)
    assert [m["role"] for m in first] == ["user", "assistant", "user"]
    answer = first[2]["content"][0]
    assert (answer["tool_use_id"], answer["is_error"]) == ("toolu_sleep", True)
    assert answer["content"] == interrupted_text(started=True)
    assert _texts(first[2]["content"]) == ["continue"]
    (stored_answer,) = _results(messages, "toolu_sleep")
    assert stored_answer["content"] == interrupted_text(started=True) and stored_answer["is_error"]
    cli = [{"role": m["role"], "content": m["content"]} for m in shown(session_id)["messages"]]
    assert cli == messages, "`subagent sessions show --json` shows the stored transcript"


def test_kill_while_an_unsandboxed_tool_runs_leaves_no_process(tmp_path: Path, sleeper: str) -> None:
    """With `sandbox: none` there is no --die-with-parent: the command's group must still go."""
    user_config = config_home() / "config.yaml"  # the user's own choice; a workspace may not make it
    user_config.parent.mkdir(parents=True, exist_ok=True)
    user_config.write_text("defaults:\n  sandbox:\n    kind: none\n")
    command = f"(exec -a {sleeper} sleep 30) & wait"  # a child of the shell, not the shell itself
    with StallServer([_bash_call("toolu_sleep", command)]) as server:
        run = LiveRun("wait a while", url=server.url, cwd=tmp_path)
        appears(sleeper)
        run.kill()
    assert gone(sleeper, 10), f"the tool's process outlived the killed run: {live_processes_with(sleeper)}"


@pytest.mark.bwrap  # bash runs in the sandbox
def test_kill_after_a_tool_result_before_the_next_reply(tmp_path: Path) -> None:
    replies = [_bash_call("toolu_echo", "echo hello > out.txt; echo wrote"), Stall(sse.message_start())]
    with StallServer(replies) as server:
        run = LiveRun("write out.txt", url=server.url, cwd=tmp_path)
        session_id = run.wait_event("session_started")["session_id"]
        assert server.stalled.wait(30)
        run.kill()
    assert (tmp_path / "out.txt").read_text() == "hello\n"
    assert [m["role"] for m in stored(session_id)] == ["user", "assistant", "user"]

    first, messages = _resume_and_check(session_id, tmp_path, latest=True)
    assert [m["role"] for m in first] == ["user", "assistant", "user"]
    answer = first[2]["content"][0]
    assert answer["tool_use_id"] == "toolu_echo" and not answer.get("is_error")
    assert "wrote" in json.dumps(answer["content"])
    assert _texts(first[2]["content"]) == ["continue"]
    assert len(_results(messages, "toolu_echo")) == 1


@pytest.mark.bwrap  # bash runs in the sandbox
def test_a_held_session_is_refused_and_fork_copies_it(tmp_path: Path, sleeper: str) -> None:
    with StallServer([_bash_call("toolu_sleep", f"exec -a {sleeper} sleep 30")]) as server:
        holder = LiveRun("first task", url=server.url, cwd=tmp_path)
        session_id = holder.wait_event("session_started")["session_id"]
        appears(sleeper)
        before = stored(session_id)
        assert [m["role"] for m in before] == ["user", "assistant"]

        with StallServer([]) as other:
            second = run_subagent(
                "run",
                "--resume",
                session_id,
                "second task",
                "--cwd",
                str(tmp_path),
                "--output",
                "json",
                ANTHROPIC_API_KEY="test",
                ANTHROPIC_BASE_URL=other.url,
            )
        assert second.returncode == 1 and second.stdout == ""
        assert session_id in second.stderr and f"pid {holder.proc.pid}" in second.stderr, second.stderr
        assert other.requests == []
        assert stored(session_id) == before, "a refused run must not touch the live session"

        # A fork that may change files would change the workspace the live run is changing: refused.
        with StallServer([]) as other:
            busy = run_subagent(
                "run",
                "--resume",
                session_id,
                "--fork",
                "third task",
                "--cwd",
                str(tmp_path),
                "--output",
                "json",
                ANTHROPIC_API_KEY="test",
                ANTHROPIC_BASE_URL=other.url,
            )
        assert busy.returncode == 1 and "is busy" in busy.stderr and session_id in busy.stderr
        assert other.requests == []
        # A read-only fork of the held session goes ahead.
        with StallServer([DONE]) as fork_server:
            forked = resume(
                session_id, "in a copy", fork_server.url, tmp_path, "--fork", "--permission-mode", "plan"
            )
        holder.kill()
    assert gone(sleeper, 10)
    assert forked["subtype"] == "success" and forked["session_id"] != session_id
    (request,) = fork_server.requests
    check_request(request)
    assert [m["role"] for m in request["messages"]] == ["user", "assistant", "user"]
    assert _texts(request["messages"][2]["content"]) == ["in a copy"]
    copy = stored(forked["session_id"])
    assert copy[: len(before)] == before
    _assert_whole(copy)
    assert stored(session_id) == before, "the forked-from session must stay as it was"


@pytest.mark.bwrap  # bash runs in the sandbox
def test_ctrl_c_during_a_tool_call_cancels_and_resumes(tmp_path: Path, sleeper: str) -> None:
    """Two bash calls run in order: Ctrl-C stops the first, the second never starts; both are answered."""
    calls = sse.reply(
        sse.tool_block(0, "toolu_sleep", "bash", {"command": f"exec -a {sleeper} sleep 30"}),
        sse.tool_block(1, "toolu_next", "bash", {"command": "echo ran > next.txt"}),
        stop_reason="tool_use",
    )
    with StallServer([calls]) as server:
        run = LiveRun("wait a while", url=server.url, cwd=tmp_path, output="json")
        appears(sleeper)
        os.kill(run.proc.pid, signal.SIGINT)
        code = run.finish()
    assert code == 130, run.stderr()
    (result,) = run.lines
    assert (result["subtype"], result["is_error"]) == ("cancelled", True)
    assert gone(sleeper, 10), f"the tool's process outlived Ctrl-C: {live_processes_with(sleeper)}"
    assert not (tmp_path / "next.txt").exists()
    session_id = result["session_id"]
    assert SqliteSessionStore().get(session_id).status == "cancelled"
    messages = stored(session_id)
    (running,) = _results(messages, "toolu_sleep")
    (waiting,) = _results(messages, "toolu_next")
    assert running["is_error"] and running["content"] == interrupted_text(True, "the run was cancelled")
    assert waiting["is_error"] and waiting["content"] == interrupted_text(False, "the run was cancelled")

    first, messages = _resume_and_check(session_id, tmp_path)
    assert [m["role"] for m in first] == ["user", "assistant", "user"]
    assert [b.get("tool_use_id") for b in first[2]["content"]] == ["toolu_sleep", "toolu_next", None]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_during_a_model_stream_stops_it(tmp_path: Path, signum: int) -> None:
    """The server never finishes this reply: only a cancelled stream lets the run end.

    SIGTERM (a closed terminal, a process manager) ends the run the same way as Ctrl-C.
    """
    head = sse.message_start() + sse.ping() + _partial_text("Thinking about it")
    with StallServer([Stall(head)]) as server:
        run = LiveRun("look around", url=server.url, cwd=tmp_path)
        session_id = run.wait_event("session_started")["session_id"]
        run.wait_event("text_delta")
        os.kill(run.proc.pid, signum)
        code = run.finish()
    assert code == 130, run.stderr()
    assert (run.lines[-1]["type"], run.lines[-1]["subtype"]) == ("result", "cancelled")
    assert stored(session_id) == [{"role": "user", "content": [{"type": "text", "text": "look around"}]}]


def test_kill_during_a_sandboxed_call_leaves_no_placeholder_behind(tmp_path: Path, sleeper: str) -> None:
    """The sandbox stands an empty read-only folder in for each protected path that does not
    exist (`.mcp.json`, `.subagent`, ...) while a call runs; a kill -9 leaves them, and the next
    run in the workspace, of any kind, removes them (a live sandbox's stay: they are locked)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    with StallServer([_bash_call("toolu_sleep", f"exec -a {sleeper} sleep 30")]) as server:
        run = LiveRun("wait a while", url=server.url, cwd=ws)
        run.wait_event("session_started")
        appears(sleeper)
        left = [ws / name for name in (".mcp.json", ".subagent", "agents.yaml") if (ws / name).is_dir()]
        assert left, "the call runs with its placeholders in place"
        run.kill()
    assert gone(sleeper, 10)
    assert all(path.is_dir() for path in left)  # what a killed run leaves
    with StallServer([DONE]) as server:
        result = resume(None, "continue", server.url, ws)
    assert result["subtype"] == "success"
    assert not [path for path in left if path.exists()]
    doctor = subprocess.run(
        subagent_argv("doctor", "--json"), cwd=ws, capture_output=True, text=True, env=subprocess_env()
    )
    swept = next(c for c in json.loads(doctor.stdout) if c["name"] == "leftovers")["detail"]
    assert "placeholder" in swept and ".mcp.json" in swept
