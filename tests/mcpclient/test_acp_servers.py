"""An editor passes its MCP servers in `session/new`: their tools reach the agent, trusted (the
editor is the user's), in an untrusted workspace, through the editor's permission asks."""

from __future__ import annotations

import sys
from pathlib import Path

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
