"""A recording ACP client for the tests and the benchmark: the SDK's client side, no editor."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from acp import spawn_agent_process
from acp.connection import StreamEvent
from acp.schema import AllowedOutcome, ClientCapabilities, DeniedOutcome, RequestPermissionResponse

from tests.conftest import subprocess_env

Answer = Callable[[Any], str | None]
"""tool call -> option id to select, or None to leave the request unanswered (until cancelled)."""


class RecordingClient:
    """Records every update and permission request; answers asks with `answer`."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer: Answer = answer or (lambda call: "allow_once")
        self.updates: list[Any] = []
        self.asks: list[Any] = []
        self.asked = asyncio.Event()
        self.incoming: list[dict[str, Any]] = []
        """Every raw message from the agent, in wire order (an observer sees them before dispatch)."""

    async def request_permission(self, options: list[Any], session_id: str, tool_call: Any, **_: Any) -> Any:
        self.asks.append(tool_call)
        self.asked.set()
        option = self.answer(tool_call)
        if option is None:
            await asyncio.Event().wait()  # never answered: the agent's cancel must unblock itself
        if option == "cancelled":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=option))

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append(update)

    def observe(self, event: StreamEvent) -> None:
        if event.direction.value == "incoming":
            self.incoming.append(event.message)

    def of_kind(self, kind: str) -> list[Any]:
        return [u for u in self.updates if u.session_update == kind]


@asynccontextmanager
async def acp_agent(
    client: RecordingClient, workspace: Path, script: Path, stderr: IO[str], *args: str
) -> AsyncIterator[Any]:
    """`subagent acp --script SCRIPT` as a subprocess, connected to `client`."""
    async with spawn_agent_process(
        client, sys.executable, "-m", "agent", "acp", "--script", str(script), *args,
        env=subprocess_env(), cwd=workspace, transport_kwargs={"stderr": stderr},
        observers=[client.observe],
    ) as (conn, _process):  # fmt: skip
        yield conn


async def open_session(conn: Any, workspace: Path) -> str:
    """Initialize the connection and open a new session in `workspace`; its id."""
    await conn.initialize(protocol_version=1, client_capabilities=ClientCapabilities())
    return str((await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id)
