"""Servers start in the background: the first request goes out before a server answers, a call
waits for its server, the kept listing names the tools in the next run, and a run that ends while
a server is still starting leaves no server process behind.

The test server is held (`GATE`) until the model's first request lets it go: had the run waited
for it, it would never have started within its start timeout, and the call would fail.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.mcpclient.connection import ServerConnection
from tests.conftest import run_subagent
from tests.mcpclient._fixtures import git_workspace, run_events, stdio_entry, write_mcp_json
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.request_check import check_request


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _run(ws: Path, gate: Path, call: dict[str, Any]) -> tuple[list[dict[str, Any]], list[list[str]], bool]:
    """A run whose first reply makes `call`; (its events, each request's tool names, whether the
    server was still held when the first request came)."""
    held: list[bool] = []

    def reply(body: dict[str, Any]) -> str:
        if not held:
            held.append(not gate.exists())
            gate.touch()  # let the server start now
            return sse.reply(
                sse.tool_block(0, "toolu_1", call["name"], call["input"]), stop_reason="tool_use"
            )
        return sse.reply(sse.text_block(0, "done"))

    with MessagesServer(reply) as server:
        proc = run_subagent(
            "run", "use the server", "--cwd", str(ws), "--output", "stream-json", "--trust",
            "--permission-mode", "bypass", ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=server.url, timeout=120,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for body in server.requests:
        check_request(body)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    return events, [[t["name"] for t in body["tools"]] for body in server.requests], held[0]


def test_the_first_request_does_not_wait_and_the_next_run_knows_the_tools(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    gate = tmp_path / "gate"
    write_mcp_json(ws, {"t": stdio_entry(tmp_path / "marker", GATE=str(gate))})

    # never listed: the first request offers the two doors, and mcp_call waits for the server
    door = {"name": "mcp_call", "input": {"tool": "mcp__t__echo", "arguments": {"text": "hi"}}}
    events, tool_lists, held = _run(ws, gate, door)
    assert held  # the request went out while the server could not have answered
    [done] = [e for e in events if e.get("type") == "tool_call_finished"]
    assert done["output"] == "echo: hi"
    assert {"mcp_tools", "mcp_call"} <= set(tool_lists[0]) and not any(
        n.startswith("mcp__") for n in tool_lists[0]
    )
    assert all(names == tool_lists[0] for names in tool_lists)  # the cached prefix holds

    # the next run knows the tools from the kept listing: by name, before the server answers
    gate.unlink()
    events, tool_lists, held = _run(ws, gate, {"name": "mcp__t__echo", "input": {"text": "again"}})
    assert held
    [done] = [e for e in events if e.get("type") == "tool_call_finished"]
    assert done["output"] == "echo: again"
    assert "mcp__t__echo" in tool_lists[0] and "mcp_call" not in tool_lists[0]
    assert all(names == tool_lists[0] for names in tool_lists)


def test_a_run_that_fails_while_a_server_starts_leaves_no_server(tmp_path: Path) -> None:
    ws = git_workspace(tmp_path / "ws")
    held, other = tmp_path / "held", tmp_path / "other"
    write_mcp_json(ws, {"t": stdio_entry(held, GATE=str(tmp_path / "never")), "u": stdio_entry(other)})
    wait = {"tool": "mcp__u__wait_for_file", "arguments": {"path": str(held)}}
    script = tmp_path / "s.yaml"  # one reply: the run's second request fails (an error, not an end)
    script.write_text(
        yaml.safe_dump({"scripts": [{"replies": [{"tool_calls": [{"name": "mcp_call", "input": wait}]}]}]})
    )
    events, stderr = run_events(ws, script, "--trust", "--permission-mode", "bypass")
    assert [e["output"] for e in events if e.get("type") == "tool_call_finished"] == ["there"], stderr
    assert events[-1]["subtype"] != "success"
    pids = [int(p) for p in held.read_text().split()] + [int(p) for p in other.read_text().split()]
    assert len(pids) == 2 and not any(_alive(p) for p in pids)  # the held one too, still starting


async def test_a_start_cut_short_kills_the_server_and_leaves_no_loose_failure(tmp_path: Path) -> None:
    import asyncio
    import gc

    from agent.mcpclient.config import ServerDef, StdioServer

    marker = tmp_path / "marker"
    entry = stdio_entry(marker, GATE=str(tmp_path / "never"))
    server = ServerDef(name="t", transport=StdioServer(**entry), source="test", scope="user")
    connection = ServerConnection(server, cwd=tmp_path, log_dir=tmp_path)
    loose: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loose.append(context))
    starting = asyncio.create_task(connection.session())
    for _ in range(1200):
        if marker.exists():
            break
        await asyncio.sleep(0.05)
    [pid] = [int(p) for p in marker.read_text().split()]
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    for _ in range(600):
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)
    gc.collect()
    await asyncio.sleep(0)
    assert loose == []  # no "Future exception was never retrieved"


async def test_a_call_after_the_run_ended_starts_no_server(tmp_path: Path) -> None:
    from agent.errors import McpServerError
    from agent.mcpclient.config import ServerDef, StdioServer

    marker = tmp_path / "marker"
    server = ServerDef(name="t", transport=StdioServer(**stdio_entry(marker)), source="test", scope="user")
    connection = ServerConnection(server, cwd=tmp_path, log_dir=tmp_path)
    await connection.session()  # the control: it starts
    await connection.stop()
    await connection.session()  # stopped (as after a crash): the next call starts it again
    await connection.close()
    with pytest.raises(McpServerError, match="the run or session that used it has ended"):
        await connection.session()
    pids = [int(p) for p in marker.read_text().split()]
    assert len(pids) == 2 and not any(_alive(p) for p in pids)
