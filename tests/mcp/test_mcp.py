"""`subagent mcp` driven by the MCP SDK's stdio client, as an orchestrator agent would."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client, StdioServerParameters
from mcp.types import ElicitResult

from agent.sessions.store import SqliteSessionStore
from tests.conftest import subprocess_env
from tests.mcp.stdio_client import mcp_client

SCRIPT = """\
- agent: orchestrator
  match: change the greeting
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"goodbye"'}}]
    - text: Changed the greeting.
    - text: It now says goodbye.
- agent: orchestrator
  match: wait for my answer
  replies:
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"bye"'}}]
    - text: Picked up where we stopped.
- agent: orchestrator
  match: two steps
  replies:
    - text: First step done.
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"two"'}}]
    - text: Second step done.
- agent: orchestrator
  match: ask me twice
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"hi"'}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hi"', new_string: '"hey"'}}]
    - text: Asked twice.
"""
pytestmark = pytest.mark.slow  # each test starts the server (about 3 s of imports under load)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "hello.py").write_text('def greet():\n    return "hello"\n')
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"scripts": yaml.safe_load(SCRIPT)}))
    return ws


async def test_tools_run_task_with_progress_reply_and_invalid_arguments(workspace: Path) -> None:
    ws = workspace
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with mcp_client(workspace) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"run_task", "reply", "list_agents"}
        assert {"prompt", "agent", "cwd", "model", "permission_mode", "max_turns"} <= set(
            tools["run_task"].input_schema["properties"]
        )
        assert tools["run_task"].output_schema is not None

        done = await client.call_tool("run_task", {
            "prompt": "change the greeting", "cwd": str(workspace), "permission_mode": "bypass",
        }, progress_callback=on_progress)  # fmt: skip
        assert not done.is_error, done.content
        result = done.structured_content
        assert result["status"] == "success"
        assert result["result"] == "Changed the greeting."
        assert result["files_changed"] == [str(workspace / "hello.py")]
        assert result["usage"]["output_tokens"] > 0
        assert 'return "goodbye"' in (workspace / "hello.py").read_text()
        assert progress[0].startswith(f"session {result['session_id']} started")
        assert "edit hello.py" in progress

        again = await client.call_tool("reply", {"session_id": result["session_id"], "prompt": "what now?"})
        assert not again.is_error, again.content
        assert again.structured_content["result"] == "It now says goodbye."
        assert again.structured_content["session_id"] == result["session_id"]

        bad_mode = await client.call_tool("run_task", {"prompt": "x", "permission_mode": "yolo"})
        assert bad_mode.is_error
        assert "permission_mode" in bad_mode.content[0].text and "accept-edits" in bad_mode.content[0].text
        unknown = await client.call_tool("run_task", {"prompt": "x", "agent": "nobody", "cwd": str(ws)})
        assert unknown.is_error and "unknown agent 'nobody'" in unknown.content[0].text
        nowhere = await client.call_tool("run_task", {"prompt": "x", "cwd": str(ws / "no-such-dir")})
        assert nowhere.is_error and "is not a directory" in nowhere.content[0].text
        missing = await client.call_tool("reply", {"session_id": "ses_missing", "prompt": "x"})
        assert missing.is_error and "ses_missing" in missing.content[0].text

        agents = await client.call_tool("list_agents", {"cwd": str(workspace)})
        names = [a["name"] for a in agents.structured_content["agents"]]
        assert "orchestrator" in names and "backend-engineer" in names

        # No elicitation offered: an ask is denied, and the result says so and how to allow it.
        (workspace / "hello.py").write_text('def greet():\n    return "hello"\n')
        denied = await client.call_tool("run_task", {"prompt": "change the greeting", "cwd": str(workspace)})
    result = denied.structured_content
    assert denied.is_error  # a refused task is not reported as done
    assert result["status"] == "error_permission_denied"
    assert "did not declare elicitation" in result["result"] and "bypass" in result["result"]
    assert any(d["tool_name"] == "edit" for d in result["permission_denials"])
    assert 'return "hello"' in (workspace / "hello.py").read_text()


async def test_elicitation_and_a_cancel_that_leaves_a_resumable_session(workspace: Path) -> None:
    """Asks go to the client; cancelled while an ask waits, the run stops and can be continued."""
    ws = workspace
    asked: list[str] = []
    waiting = asyncio.Event()
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async def elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if '+"bye"' not in params.message:  # only the edit of "wait for my answer" waits
            return ElicitResult(action="accept", content={"allow": True, "always": False})
        waiting.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    # Elicitation needs a back-channel: the handshake protocol, which MCP clients speak today.
    async with mcp_client(workspace, elicitation_callback=elicit, mode="legacy") as client:
        with anyio.fail_after(60):
            done = await client.call_tool("run_task", {"prompt": "change the greeting", "cwd": str(ws)})
        assert done.structured_content["status"] == "success", done.structured_content
        assert any("edit" in m and "hello.py" in m for m in asked)
        assert 'return "goodbye"' in (workspace / "hello.py").read_text()

        (workspace / "hello.py").write_text('def greet():\n    return "hello"\n')
        async with anyio.create_task_group() as group:

            async def run() -> None:
                await client.call_tool("run_task", {"prompt": "wait for my answer", "cwd": str(workspace)},
                                       progress_callback=on_progress)  # fmt: skip
                raise AssertionError("the call was not cancelled")

            group.start_soon(run)
            with anyio.fail_after(30):
                await waiting.wait()
            group.cancel_scope.cancel()
        session_id = re.match(r"session (\S+) started", progress[0])[1]  # type: ignore[index]
        store = SqliteSessionStore()
        try:
            for _ in range(100):
                if store.get(session_id).status != "running":
                    break
                await asyncio.sleep(0.1)
            assert store.get(session_id).status == "cancelled"
        finally:
            store.close()
        resumed = await client.call_tool("reply", {"session_id": session_id, "prompt": "go on"})
    assert not resumed.is_error, resumed.content
    assert resumed.structured_content["result"] == "Picked up where we stopped."
    assert 'return "hello"' in (workspace / "hello.py").read_text()


async def test_the_result_and_progress_say_what_confined_the_run(workspace: Path) -> None:
    (workspace / ".subagent").mkdir()
    (workspace / ".subagent" / "config.yaml").write_text("defaults:\n  sandbox: {kind: none}\n")
    script = workspace.parent / "script.yaml"
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    for args in ((), ("--trust",)):
        progress.clear()
        params = StdioServerParameters(
            command=sys.executable,
            env=subprocess_env(),
            cwd=str(workspace),
            args=["-m", "agent", "mcp", "--script", str(script), *args],
        )
        async with Client(params) as client:
            done = await client.call_tool("run_task", {
                "prompt": "change the greeting", "cwd": str(workspace), "permission_mode": "bypass",
            }, progress_callback=on_progress)  # fmt: skip
        boundary = done.structured_content["boundary"]
        assert boundary["trusted"] is bool(args)
        if args:
            assert boundary["sandbox"] == "none" and boundary["network"] is True and boundary["refused"] == []
            assert "WARNING: bash runs WITHOUT a sandbox" in progress[0]
        else:
            assert boundary["sandbox"] == "bwrap" and boundary["network"] is False
            [line] = boundary["refused"]
            assert "defaults.sandbox.kind" in line and f"subagent trust {workspace.resolve()}" in line
            assert f"WARNING: refused: {line}" in progress[0]
        (workspace / "hello.py").write_text('def greet():\n    return "hello"\n')


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_asks_reach_the_default_client_and_the_legacy_one(workspace: Path, mode: str) -> None:
    """The SDK's default client negotiates 2026-07-28 (asks as input_required round trips);
    `mode="legacy"` 2025-11-25 (asks as elicitation requests): both reach the callback."""
    asked: list[str] = []

    async def elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        allow = len(asked) == 1  # the first edit allowed, the second declined
        return ElicitResult(action="accept", content={"allow": allow, "always": False})

    async with mcp_client(workspace, elicitation_callback=elicit, mode=mode) as client:
        with anyio.fail_after(60):
            done = await client.call_tool("run_task", {"prompt": "ask me twice", "cwd": str(workspace)})
    result = done.structured_content
    assert len(asked) == 2 and all("hello.py" in m for m in asked), (asked, result)
    assert 'return "hi"' in (workspace / "hello.py").read_text()  # allowed, then the second refused
    assert [d["tool_name"] for d in result["permission_denials"]] == ["edit"]
    assert "declined by the MCP client's user" in result["result"] and "bypass" in result["result"]


async def test_reply_keeps_the_sessions_mode_and_tools_say_what_they_do(workspace: Path) -> None:
    async with mcp_client(workspace) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        first = await client.call_tool("run_task", {
            "prompt": "two steps", "cwd": str(workspace), "permission_mode": "bypass",
        })  # fmt: skip
        session_id = first.structured_content["session_id"]
        again = await client.call_tool("reply", {"session_id": session_id, "prompt": "go on"})
    assert tools["list_agents"].annotations.read_only_hint is True
    for name in ("run_task", "reply"):
        hints = tools[name].annotations
        assert (hints.read_only_hint, hints.destructive_hint, hints.open_world_hint) == (False, False, False)
    assert {"model", "permission_mode", "max_turns"} <= set(tools["reply"].input_schema["properties"])
    assert again.structured_content["status"] == "success", again.structured_content
    assert again.structured_content["permission_denials"] == []  # bypass kept: no one was asked
    assert 'return "two"' in (workspace / "hello.py").read_text()


ALWAYS_SCRIPT = """\
- agent: orchestrator
  match: greet in French
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"hello"', new_string: '"bonjour"'}}]
    - text: Bonjour.
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"bonjour"', new_string: '"salut"'}}]
    - text: Salut.
- agent: orchestrator
  match: greet in German
  replies:
    - tool_calls: [{name: read, input: {file_path: hello.py}}]
    - tool_calls: [{name: edit, input: {file_path: hello.py, old_string: '"salut"', new_string: '"hallo"'}}]
    - text: Hallo.
"""


async def test_allow_always_holds_for_the_session_and_its_replies_only(workspace: Path) -> None:
    (workspace.parent / "script.yaml").write_text(yaml.safe_dump({"scripts": yaml.safe_load(ALWAYS_SCRIPT)}))
    asked: list[str] = []

    async def elicit(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"allow": True, "always": True})

    async with mcp_client(workspace, elicitation_callback=elicit, mode="legacy") as client:
        with anyio.fail_after(60):
            first = await client.call_tool("run_task", {"prompt": "greet in French", "cwd": str(workspace)})
        assert first.structured_content["status"] == "success", first.structured_content
        assert len(asked) == 1 and "hello.py" in asked[0]
        assert 'return "bonjour"' in (workspace / "hello.py").read_text()
        session_id = first.structured_content["session_id"]

        with anyio.fail_after(60):
            again = await client.call_tool("reply", {"session_id": session_id, "prompt": "once more"})
        assert again.structured_content["result"] == "Salut.", again.structured_content
        assert 'return "salut"' in (workspace / "hello.py").read_text()
        assert len(asked) == 1  # the same edit in the same session: not asked again

        with anyio.fail_after(60):
            other = await client.call_tool("run_task", {"prompt": "greet in German", "cwd": str(workspace)})
        assert other.structured_content["status"] == "success", other.structured_content
        assert len(asked) == 2  # another session: its own memory, so it asks
    assert 'return "hallo"' in (workspace / "hello.py").read_text()
