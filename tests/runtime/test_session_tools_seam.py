"""The runtime knows nothing of the orchestrator: the `task` tool comes in through the parts seam
(`RuntimeParts.session_tools`) like any tool, composed one level up (`agent.api.run_events`), and
learns about its call through `run_call`."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import pytest

import agent
import agent.api
from agent.api import run_agent
from agent.runtime.assembly import run_events
from agent.runtime.options import RunOptions
from agent.runtime.parts import SessionSeat, default_parts
from agent.tool import PermissionRequest, Tool, ToolCallInfo, ToolContext, ToolInput, ToolResult
from tests.loop.fakes import MemoryStore
from tests.model import sse
from tests.model.messages_server import MessagesServer
from tests.runtime.test_run_agent import parts_for

AGENT_DIR = Path(agent.__file__).parent


def _orchestrator_imports(path: Path) -> list[tuple[str, str]]:
    """(module path, enclosing function or '<module>') of each import of agent.orchestrator."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            names: list[str] = []
            if isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module]
            elif isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            if any(n == "agent.orchestrator" or n.startswith("agent.orchestrator.") for n in names):
                found.append((str(path.relative_to(AGENT_DIR)), where))
            visit(child, inner)

    visit(ast.parse(path.read_text(), str(path)), "<module>")
    return found


def test_the_runtime_and_the_loop_do_not_import_the_orchestrator() -> None:
    imports = [
        hit
        for package in ("runtime", "loop")
        for path in sorted((AGENT_DIR / package).rglob("*.py"))
        for hit in _orchestrator_imports(path)
    ]
    assert imports == []  # not even lazily: agent.api composes the task tool in


class EchoInput(ToolInput):
    text: str


class CallEchoTool(Tool[EchoInput]):
    """A tool from outside the runtime that answers with what it knows of its session and call."""

    name: ClassVar[str] = "call_echo"
    description: ClassVar[str] = "Say which session and call this is."
    input_model: ClassVar[type[ToolInput]] = EchoInput
    kind: ClassVar[Any] = "other"

    def __init__(self, seat: SessionSeat) -> None:
        self.seat = seat

    async def run(self, input: EchoInput, ctx: ToolContext) -> ToolResult:
        raise AssertionError("the loop runs calls through run_call")

    async def run_call(self, input: EchoInput, ctx: ToolContext, call: ToolCallInfo) -> ToolResult:
        return ToolResult(
            output=f"{self.seat.spec.name} {self.seat.session_id} {call.tool_use_id} {input.text}"
        )

    def permission_requests(self, input: EchoInput, ctx: ToolContext) -> list[PermissionRequest]:
        return []


async def test_a_session_tool_comes_through_the_seam_with_its_seat_and_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    replies = [
        sse.reply(sse.tool_block(0, "toolu_e", "call_echo", {"text": "hi"}), stop_reason="tool_use"),
        sse.reply(sse.text_block(0, "done")),
    ]
    seats: list[SessionSeat] = []

    def session_tools(seat: SessionSeat) -> list[Tool[Any]]:
        seats.append(seat)
        return [CallEchoTool(seat)]

    parts = dataclasses.replace(parts_for(MemoryStore(), []), session_tools=session_tools)
    with MessagesServer(replies) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        events = [e async for e in run_agent("echo", agent="backend-engineer", cwd=tmp_path, parts=parts)]
        offered = [t["name"] for t in server.requests[0]["tools"]]
    assert "call_echo" in offered
    finished = next(e for e in events if e.type == "tool_call_finished")
    session_id = events[0].session_id
    assert finished.output == f"backend-engineer {session_id} toolu_e hi"
    assert [(s.spec.name, s.session_id, s.parent) for s in seats] == [("backend-engineer", session_id, None)]
    assert (
        seats[0].mcp is None
    )  # no MCP servers in this workspace (tests/orchestrator/test_children_share_mcp.py)


async def test_the_runtime_alone_adds_no_session_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with MessagesServer([sse.reply(sse.text_block(0, "done"))]) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        parts = parts_for(MemoryStore(), [])
        assert parts.session_tools is None and default_parts().session_tools is None
        options = RunOptions(prompt="x", agent="backend-engineer", cwd=tmp_path, parts=parts)
        [e async for e in run_events(options)]
        offered = [t["name"] for t in server.requests[0]["tools"]]
    assert offered == ["read_note", "write_note"]


async def test_the_task_tool_is_composed_in_by_the_front_ends_run_events(tmp_path: Path) -> None:
    """The same orchestrator run: through `agent.api.run_events` (every front end) it has `task`;
    through the runtime's own `run_events` with the runtime's own parts it has not."""
    from tests.orchestrator._scenario import model, workspace

    ws = workspace(tmp_path)
    offered: dict[str, list[str]] = {}
    for label, stream in (("front ends", agent.api.run_events), ("runtime", run_events)):
        client = model([{"agent": "orchestrator", "replies": [{"text": "ok"}]}])
        options = RunOptions(prompt="hi", agent="orchestrator", cwd=ws, model_client=client)
        events = [e async for e in stream(options)]
        offered[label] = events[0].tools
        assert events[-1].subtype == "success"
    assert "task" in offered["front ends"]
    assert offered["runtime"] == [t for t in offered["front ends"] if t != "task"]
