"""A subagent uses its root run's MCP servers: started once by the root, handed to the `task` tool
through the session's seat (`SessionSeat.mcp`), not started again for the child. A real server
(tests/mcpclient/mcp_test_server.py) over stdio, the scripted model, `agent.run_agent`."""

from __future__ import annotations

from pathlib import Path

from tests.mcpclient._fixtures import stdio_entry, write_mcp_json
from tests.orchestrator._scenario import collect, final, model, task, workspace

ECHO = {"name": "mcp__t__echo", "input": {"text": "from the child"}}


async def test_a_subagent_calls_the_servers_its_root_started(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    marker = tmp_path / "marker"
    write_mcp_json(ws, {"t": stdio_entry(marker)})
    client = model(
        [
            {"agent": "orchestrator", "replies": [{"tool_calls": [task("echo it")]}, {"text": "all done"}]},
            {"agent": "worker", "replies": [{"tool_calls": [ECHO]}, {"text": "echoed"}]},
        ]
    )
    events = await collect("delegate the echo", ws, client)

    assert final(events).subtype == "success"
    child_calls = [e for e in events if e.type == "tool_call_finished" and e.name == "mcp__t__echo"]
    assert [(e.output, e.is_error) for e in child_calls] == [("echo: from the child", False)]
    assert child_calls[0].parent_tool_use_id is not None  # the child's call, not the root's
    child_start = next(e for e in events if e.type == "session_started" and e.parent_tool_use_id)
    assert "mcp__t__echo" in child_start.tools
    assert len(marker.read_text().split()) == 1  # one server process, the root's, for both sessions
