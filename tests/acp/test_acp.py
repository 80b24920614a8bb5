"""`subagent acp` driven by the ACP SDK's client side, as an editor would, with the scripted model.

The scripted model calls the real tools in a temporary workspace; sessions are stored in the
test's own SQLite file (SUBAGENT_HOME), so a second process can list and load them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
import yaml
from acp import RequestError, text_block
from acp.schema import ClientCapabilities, FileSystemCapabilities, ReadTextFileResponse

from tests.acp.acp_client import RecordingClient, acp_agent, open_session
from tests.conftest import subagent_argv, subprocess_env
from tests.processes import live_processes_with, unique_sleep

GREETING = """\
- agent: orchestrator
  match: change the greeting
  replies:
    - thinking: Read it first.
      text: Reading hello.py.
      tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls:
        - {name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"goodbye"'}}
    - text: Done with the greeting.
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"goodbye"'}}]
    - text: Second try done.
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls:
        - {name: edit, input: {file_path: hello.py, old_string: '"goodbye"', new_string: '"farewell"'}}
    - text: Third change done.
- agent: orchestrator
  match: wait for me
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"bye"'}}]
    - text: never reached
- agent: orchestrator
  match: think slowly
  replies:
    - {text: slow answer, delay_s: 60}
- agent: orchestrator
  match: run the slow command
  replies:
    - tool_calls: [{name: bash, input: {command: sleep 31.5}}]
    - text: the command finished
- agent: orchestrator
  match: edit the unsaved buffer
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls:
        - {name: edit, input: {file_path: hello.py, old_string: '"unsaved"', new_string: '"edited"'}}
    - text: Edited the buffer.
- agent: orchestrator
  match: BIGPROMPT
  replies:
    - text: BIGREPLY
"""
MEGABYTE = 1024 * 1024


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hello.py").write_text('def greet():\n    return "hello"\n')
    # The 1 MB prompt is about the transport; the window guard would refuse it in a 200k window.
    (ws / ".subagent").mkdir()
    (ws / ".subagent" / "config.yaml").write_text("models: {claude-sonnet-5-5: {context_window: 2000000}}\n")
    return ws


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.yaml"
    entries = yaml.safe_load(GREETING)
    entries[-1]["replies"][0]["text"] = "R" * MEGABYTE  # a 1 MB line back to the client
    path.write_text(yaml.safe_dump({"scripts": entries}))
    return path


@pytest.fixture
def stderr(tmp_path: Path) -> IO[str]:
    with open(tmp_path / "agent-stderr.txt", "w+") as handle:
        yield handle


def _answered_after_updates(client: RecordingClient) -> None:
    """The last message on the wire is the answer: no session/update came after it."""
    last = client.incoming[-1]
    assert "result" in last and "method" not in last, last
    assert any(m.get("method") == "session/update" for m in client.incoming)


def _asked_after_shown(client: RecordingClient) -> int:
    """Every `session/request_permission` comes, on the wire, after the `tool_call` update of the
    call it is about (the runtime orders them; nothing waits on a timer). Returns how many."""
    shown: set[str] = set()
    asks = 0
    for message in client.incoming:
        params = message.get("params") or {}
        if message.get("method") == "session/update" and params["update"].get("sessionUpdate") == "tool_call":
            shown.add(params["update"]["toolCallId"])
        elif message.get("method") == "session/request_permission":
            asks += 1
            assert params["toolCall"]["toolCallId"] in shown, message
    return asks


@pytest.mark.slow
async def test_initialize_modes_big_lines_and_cancelled_turns(
    workspace: Path, script: Path, stderr: IO[str]
) -> None:
    """One agent process, several sessions (each start-up costs seconds of SDK imports)."""
    client = RecordingClient(lambda call: None if (call.title or "").startswith("edit") else "allow_once")
    async with acp_agent(client, workspace, script, stderr) as conn:
        init = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
        assert init.protocol_version == 1
        caps = init.agent_capabilities
        assert caps.load_session is True
        assert caps.prompt_capabilities.embedded_context is True and caps.prompt_capabilities.image is False
        assert caps.session_capabilities.list is not None and caps.session_capabilities.resume is not None
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        assert session.modes.current_mode_id == "orchestrator"
        with pytest.raises(RequestError) as excinfo:
            await conn.authenticate(method_id="none")
        assert excinfo.value.code == -32601  # method not found, not a silent success
        with pytest.raises(RequestError):
            await conn.set_session_mode(session_id=session.session_id, mode_id="no-such-agent")

        big = await conn.prompt(session_id=session.session_id,
                                prompt=[text_block("BIGPROMPT " + "x" * MEGABYTE)])  # fmt: skip
        assert big.stop_reason == "end_turn"
        assert "".join(u.content.text for u in client.of_kind("agent_message_chunk")) == "R" * MEGABYTE

        slow = (await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        turn = asyncio.ensure_future(conn.prompt(session_id=slow, prompt=[text_block("think slowly")]))
        await asyncio.sleep(1.0)
        await conn.cancel(session_id=slow)
        assert (await asyncio.wait_for(turn, 30)).stop_reason == "cancelled"

        asking = (await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        turn = asyncio.ensure_future(conn.prompt(session_id=asking, prompt=[text_block("wait for me")]))
        while not any((a.title or "").startswith("edit") for a in client.asks):
            await asyncio.wait({turn}, timeout=0.05)
            assert not turn.done(), "the prompt ended before the edit was asked"
        await conn.cancel(session_id=asking)  # the ask is never answered by the client
        assert (await asyncio.wait_for(turn, 30)).stop_reason == "cancelled"
        assert 'return "hello"' in (workspace / "hello.py").read_text()


@pytest.mark.slow
async def test_tool_calls_diffs_permissions_both_ways_then_load(
    workspace: Path, script: Path, stderr: IO[str]
) -> None:
    answers = iter(["reject_once", "allow_always"])
    client = RecordingClient(lambda c: next(answers) if (c.title or "").startswith("edit") else "allow_once")
    async with acp_agent(client, workspace, script, stderr) as conn:
        session_id = await open_session(conn, workspace)

        first = await conn.prompt(session_id=session_id, prompt=[text_block("please change the greeting")])
        assert first.stop_reason == "end_turn"
        assert 'return "hello"' in (workspace / "hello.py").read_text()  # rejected: unchanged
        _answered_after_updates(client)
        assert [u.content.text for u in client.of_kind("agent_thought_chunk")] == ["Read it first."]
        starts = client.of_kind("tool_call")
        assert [(s.kind, s.title) for s in starts] == [("read", "read hello.py"), ("edit", "edit hello.py")]
        assert starts[0].locations[0].path == str(workspace / "hello.py")
        edit_id = starts[1].tool_call_id
        edit_updates = [u for u in client.of_kind("tool_call_update") if u.tool_call_id == edit_id]
        assert edit_updates[-1].status == "failed"
        edit_ask = next(a for a in client.asks if (a.title or "").startswith("edit"))
        assert edit_ask.tool_call_id == edit_id  # the ask names the call the client was shown

        second = await conn.prompt(session_id=session_id, prompt=[text_block("try again")])
        assert second.stop_reason == "end_turn"
        assert 'return "goodbye"' in (workspace / "hello.py").read_text()
        done = [u for u in client.of_kind("tool_call_update") if u.status == "completed" and u.content]
        diffs = [c for u in done for c in u.content if c.type == "diff"]
        assert len(diffs) == 1
        assert diffs[0].path == str(workspace / "hello.py")
        assert '"hello"' in diffs[0].old_text and '"goodbye"' in diffs[0].new_text

        asks_before = sum(1 for a in client.asks if (a.title or "").startswith("edit"))
        third = await conn.prompt(session_id=session_id, prompt=[text_block("once more")])
        assert third.stop_reason == "end_turn"
        assert 'return "farewell"' in (workspace / "hello.py").read_text()
        # `allow always` was remembered for the session: no new ask for the same edit.
        assert sum(1 for a in client.asks if (a.title or "").startswith("edit")) == asks_before
        assert _asked_after_shown(client) == len(client.asks) >= 2

    replay = RecordingClient()
    async with acp_agent(replay, workspace, script, stderr) as conn:
        await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
        listed = await conn.list_sessions(cwd=str(workspace))
        listed_ids = {s.session_id: s.title for s in listed.sessions}
        assert listed_ids.get(session_id) == "please change the greeting"
        await conn.load_session(cwd=str(workspace), session_id=session_id, mcp_servers=[])
        _answered_after_updates(replay)
        users = [u.content.text for u in replay.of_kind("user_message_chunk")]
        assert users[:1] == ["please change the greeting"] and "try again" in users
        assert "Done with the greeting." in [u.content.text for u in replay.of_kind("agent_message_chunk")]
        assert [s.title for s in replay.of_kind("tool_call")][:2] == ["read hello.py", "edit hello.py"]
        with pytest.raises(RequestError):
            await conn.load_session(cwd=str(workspace), session_id="ses_nope", mcp_servers=[])


@pytest.mark.bwrap
@pytest.mark.slow
async def test_cancel_stops_a_running_bash_command(workspace: Path, script: Path, stderr: IO[str]) -> None:
    # A sleep of its own: the test looks machine-wide (xdist workers, other checkouts' suites).
    tag = unique_sleep()
    script.write_text(script.read_text().replace("sleep 31.5", f"sleep {tag}"))
    client = RecordingClient()
    async with acp_agent(client, workspace, script, stderr) as conn:
        session_id = await open_session(conn, workspace)
        turn = asyncio.ensure_future(
            conn.prompt(session_id=session_id, prompt=[text_block("run the slow command")])
        )
        assert await _until(lambda: bool(live_processes_with(tag)), 60), "the bash command never started"
        await conn.cancel(session_id=session_id)
        response = await asyncio.wait_for(turn, 30)
        assert response.stop_reason == "cancelled"
        # The sandbox's leader is reaped before the answer; the sleep in its pid namespace is
        # killed by the kernel right after: gone within seconds, not after its thousands.
        assert await _until(lambda: not live_processes_with(tag), 10), "the command outlived the cancel"


async def _until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Whether `condition` holds within `timeout_s` (polled)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.slow
def test_stdout_carries_only_json_rpc(workspace: Path, script: Path, tmp_path: Path) -> None:
    """Stray writes after start-up (print, fd 1 writes at exit) must land on stderr, not the wire."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "import atexit, os, sys\n"
        "atexit.register(lambda: (print('STRAY print'), sys.stdout.flush(), os.write(1, b'STRAY fd1\\n')))\n"
    )
    env = subprocess_env()
    env["PYTHONPATH"] = f"{hooks}{os.pathsep}{env['PYTHONPATH']}"
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "session/new",
            "params": {"cwd": str(workspace), "mcpServers": []},
        },
    ]
    proc = subprocess.Popen(
        [*subagent_argv("acp", "--script", str(script))],
        cwd=workspace,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    for request in requests:
        proc.stdin.write((json.dumps(request) + "\n").encode())
    proc.stdin.flush()
    session_id = _read_until(proc.stdout, 2)["result"]["sessionId"]
    prompt = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "session/prompt",
        "params": {"sessionId": session_id, "prompt": [{"type": "text", "text": "think slowly"}]},
    }
    proc.stdin.write((json.dumps(prompt) + "\n").encode())
    proc.stdin.write(
        (
            json.dumps({"jsonrpc": "2.0", "method": "session/cancel", "params": {"sessionId": session_id}})
            + "\n"
        ).encode()
    )
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    lines = [line for line in out.decode().splitlines() if line]
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0", line[:200]
    assert b"STRAY print" in err and b"STRAY fd1" in err  # the strays happened, off the wire


def _read_until(stdout: Any, request_id: int) -> dict[str, Any]:
    while True:
        line = stdout.readline()
        assert line, "the agent closed stdout"
        message = json.loads(line)
        if message.get("id") == request_id:
            return dict(message)


def test_bad_script_fails_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scripts: [{replies: []}]\n")
    done = subprocess.run(
        subagent_argv("acp", "--script", str(bad)),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert str(bad) in done.stderr


class EditorClient(RecordingClient):
    """An editor holding an unsaved buffer of hello.py; writes land in its buffers, not on disk."""

    def __init__(self, buffers: dict[str, str]) -> None:
        super().__init__()
        self.buffers = buffers
        self.writes: list[tuple[str, str]] = []

    async def read_text_file(self, path: str, session_id: str, **_: Any) -> Any:
        if path not in self.buffers:
            raise RequestError.resource_not_found(path)
        return ReadTextFileResponse(content=self.buffers[path])

    async def write_text_file(self, content: str, path: str, session_id: str, **_: Any) -> None:
        self.writes.append((path, content))
        self.buffers[path] = content


@pytest.mark.slow
async def test_reads_and_writes_go_through_the_editor_when_offered(
    workspace: Path, script: Path, stderr: IO[str]
) -> None:
    hello = str(workspace / "hello.py")
    client = EditorClient({hello: 'def greet():\n    return "unsaved"\n'})
    async with acp_agent(client, workspace, script, stderr) as conn:
        fs = FileSystemCapabilities(read_text_file=True, write_text_file=True)
        await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities(fs=fs))
        session = await conn.new_session(cwd=str(workspace), mcp_servers=[])
        answer = await conn.prompt(session_id=session.session_id,
                                   prompt=[text_block("edit the unsaved buffer")])  # fmt: skip
    assert answer.stop_reason == "end_turn"
    assert client.writes == [(hello, 'def greet():\n    return "edited"\n')]
    assert (workspace / "hello.py").read_text() == 'def greet():\n    return "hello"\n'  # disk untouched


@pytest.mark.slow
async def test_a_run_without_sandbox_or_with_refused_keys_says_so_once_per_session(
    tmp_path: Path, stderr: IO[str]
) -> None:
    ws = tmp_path / "untrusted"
    (ws / ".subagent").mkdir(parents=True)
    (ws / ".subagent" / "config.yaml").write_text("defaults:\n  sandbox: {kind: none}\n")
    script = tmp_path / "hello.yaml"
    script.write_text("scripts:\n  - agent: orchestrator\n    replies: [{text: one}, {text: two}]\n")
    for args, first in (((), "⚠ refused: "), (("--trust",), "⚠ bash runs WITHOUT a sandbox")):
        client = RecordingClient()
        async with acp_agent(client, ws, script, stderr, *args) as conn:
            session_id = await open_session(conn, ws)
            for prompt in ("hello", "again"):
                done = await conn.prompt(session_id=session_id, prompt=[text_block(prompt)])
                assert done.stop_reason == "end_turn"
        chunks = client.of_kind("agent_message_chunk")
        notices = [c for c in chunks if c.content.text.startswith("⚠")]
        assert len(notices) == 1, [c.content.text for c in chunks]  # once, not at every prompt
        assert notices[0].content.text.startswith(first)
        assert chunks[0] is notices[0]  # before the reply
        boundary = notices[0].field_meta["subagent/boundary"]
        assert boundary["trusted"] is bool(args)
        assert boundary["sandbox"] == ("none" if args else "bwrap")
        if not args:
            assert "defaults.sandbox.kind" in boundary["refused"][0]
            assert f"subagent trust {ws.resolve()}" in notices[0].content.text
