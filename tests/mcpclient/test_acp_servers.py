"""An editor passes its MCP servers in `session/new`: their tools reach the agent, trusted (the
editor is the user's), in an untrusted workspace, through the editor's permission asks; they start
once per session and stop when it closes or the connection ends."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml
from acp import text_block
from acp.schema import ClientCapabilities, EnvVariable, McpServerStdio

from tests.acp.acp_client import RecordingClient, acp_agent
from tests.mcpclient._fixtures import SERVER, git_workspace, script, via_doors


async def test_an_editors_server_is_used_and_asks_go_to_the_editor(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    marker = tmp_path / "marker"
    calls = script(
        tmp_path / "s.yaml", [[via_doors({"name": "mcp__notes__echo", "input": {"text": "from the editor"}})]]
    )
    client = RecordingClient(lambda call: "allow_once")
    with open(tmp_path / "stderr.txt", "w+") as stderr:
        async with acp_agent(client, ws, calls, stderr) as conn:
            init = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
            assert init.agent_capabilities.mcp_capabilities.http
            server = McpServerStdio(
                name="notes", command=sys.executable, args=[str(SERVER)],
                env=[EnvVariable(name="MARKER", value=str(marker))],
            )  # fmt: skip
            session = await conn.new_session(cwd=str(ws), mcp_servers=[server])
            answer = await conn.prompt(session_id=session.session_id, prompt=[text_block("use it")])
    assert answer.stop_reason == "end_turn"
    assert marker.exists()
    [ask] = client.asks
    assert (ask.title or "").startswith("notes: echo")
    done = [u for u in client.of_kind("tool_call_update") if u.status == "completed"]
    assert any("echo: from the editor" in str(u.content) for u in done)


def _pids(marker: Path) -> list[int]:
    return [int(p) for p in marker.read_text().split()] if marker.exists() else []


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


async def _gone(pid: int) -> bool:
    for _ in range(600):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_an_editors_servers_live_as_long_as_the_session(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    call = via_doors({"name": "mcp__notes__echo", "input": {"text": "again"}})
    calls = tmp_path / "s.yaml"  # two prompts per session: a call, then an answer, each
    calls.write_text(
        yaml.safe_dump({"scripts": [{"replies": [{"tool_calls": [call]}, {"text": "one"},
                                                 {"tool_calls": [call]}, {"text": "two"}]}]})
    )  # fmt: skip
    client = RecordingClient(lambda call: "allow_always")

    def editor_server(marker: Path) -> McpServerStdio:
        return McpServerStdio(name="notes", command=sys.executable, args=[str(SERVER)],
                              env=[EnvVariable(name="MARKER", value=str(marker))])  # fmt: skip

    closed, kept = tmp_path / "closed", tmp_path / "kept"
    with open(tmp_path / "stderr.txt", "w+") as stderr:
        async with acp_agent(client, ws, calls, stderr) as conn:
            init = await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
            assert init.agent_capabilities.session_capabilities.close is not None
            first = await conn.new_session(cwd=str(ws), mcp_servers=[editor_server(closed)])
            second = await conn.new_session(cwd=str(ws), mcp_servers=[editor_server(kept)])
            for session in (first, second, first):
                answer = await conn.prompt(session_id=session.session_id, prompt=[text_block("echo")])
                assert answer.stop_reason == "end_turn"
            [pid] = _pids(closed)  # two prompts of `first`, one server
            assert _alive(pid)  # the control: it runs between prompts
            await conn.close_session(session_id=first.session_id)
            assert await _gone(pid)  # session/close stops its servers
            [other] = _pids(kept)
            assert _alive(other)  # not the other session's
    assert await _gone(other)  # the connection's end stops the rest
    done = [u for u in client.of_kind("tool_call_update") if u.status == "completed"]
    assert sum("echo: again" in str(u.content) for u in done) == 3
