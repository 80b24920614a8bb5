"""One ACP session's state: where it runs, its mode, its approver, and the turn's update outbox.

`AcpSession` is what `agent.acp.server.AcpServer` keeps per session id; `Outbox` writes a turn's
updates in order in its own task; `mode_state` lists the primary agents as ACP modes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import DEFAULT_AGENT
from agent.acp.client_requests import AcpApprover, AcpEditorBuffers
from agent.acp.updates import UpdateMapper
from agent.mcpclient.for_run import KeptHub
from agent.permissions.always import AlwaysMemory

log = logging.getLogger(__name__)


@dataclass(eq=False, repr=False)
class AcpSession:
    """One ACP session: where it runs, which primary agent, and the current turn."""

    id: str
    cwd: Path
    mode: str
    approver: AcpApprover = field(init=False)
    always: AlwaysMemory = field(default_factory=AlwaysMemory)
    """The session's `always` answers (allow and reject): every prompt's run gets them."""
    editor: AcpEditorBuffers | None = None
    cancel: asyncio.Event | None = None
    mapper: UpdateMapper | None = None
    outbox: Outbox | None = None
    untitled: bool = False
    """Created by `session/new` and not prompted yet: the first prompt becomes its title."""
    notices_shown: set[str] = field(default_factory=set)
    """Boundary notices (no sandbox, network, refused keys) this session has shown already."""
    mcp_servers: list[Any] = field(default_factory=list)
    """The MCP servers the editor passed (`agent.acp.mcp_servers`), for each turn's run."""
    commands_offered: list[Any] = field(default_factory=list)
    """The custom commands the editor was last told of (`available_commands_update`)."""
    mcp: KeptHub = field(default_factory=KeptHub)
    """The session's running MCP servers: started by its first prompt, reused by the next ones,
    stopped when the session closes or the agent's connection ends."""


class Outbox:
    """Writes one turn's updates in order, in its own task, so the run never waits on the pipe.

    When the pipe is slower than the model, text chunks already queued behind each other are
    joined into one update (the editor shows the same text, with fewer writes). `close()`
    returns once everything put before it is written: the prompt handler closes the outbox
    before it answers, so no update of the turn can follow the answer.
    """

    def __init__(self, conn: Any, session: AcpSession) -> None:
        self._conn = conn
        self._session = session
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._held: list[Any] = []
        """An update taken from the queue while joining chunks, to be written next."""
        self._task = asyncio.ensure_future(self._write())

    def put(self, update: Any) -> None:
        self._queue.put_nowait(update)

    async def flushed(self) -> None:
        """Return once every update put before this call is written (or the client went away):
        a permission request follows the `tool_call` it is about on the wire."""
        if self._task.done():
            return
        mark = _Flushed()
        self._queue.put_nowait(mark)
        await mark.done.wait()

    async def _next(self) -> Any:
        update = self._held.pop() if self._held else await self._queue.get()
        kind = getattr(update, "session_update", None)
        if kind not in JOINABLE or update.content.type != "text":
            return update
        texts = [update.content.text]
        while not self._queue.empty():
            following = self._queue.get_nowait()
            if getattr(following, "session_update", None) != kind or following.content.type != "text":
                self._held.append(following)
                break
            texts.append(following.content.text)
        if len(texts) == 1:
            return update
        joined = update.content.model_copy(update={"text": "".join(texts)})
        return update.model_copy(update={"content": joined})

    async def _write(self) -> None:
        try:
            while (update := await self._next()) is not None:
                if isinstance(update, _Flushed):
                    update.done.set()
                    continue
                try:
                    await self._conn.session_update(session_id=self._session.id, update=update)
                except ConnectionError:
                    log.warning("session %s: the client went away; dropping updates", self._session.id)
                    return
        finally:  # nothing more is written: no one waits for it
            while not self._queue.empty():
                if isinstance(left := self._queue.get_nowait(), _Flushed):
                    left.done.set()

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task


JOINABLE = ("agent_message_chunk", "agent_thought_chunk")


class _Flushed:
    """A mark in the outbox's queue: `done` is set when the writer reaches it."""

    def __init__(self) -> None:
        self.done = asyncio.Event()


def set_title(session_id: str, prompt: str) -> None:
    from agent.runtime.parts import opened_store

    with opened_store() as store:
        store.update(session_id, title=" ".join(prompt.split())[:80])


def mode_state(cwd: Path, preferred: str | None, current: str | None, trust: bool = False) -> Any:
    """The primary agents as ACP modes; `current`, else `preferred`, else DEFAULT_AGENT, is on."""
    from acp.schema import SessionMode, SessionModeState

    from agent.registry.discovery import load_registry_for

    registry = load_registry_for(cwd, trust=trust)
    agents = registry.primary_agents()
    if preferred and preferred not in [a.name for a in agents]:
        agents.insert(0, registry.get(preferred))  # `--agent` may name a subagent; raises if unknown
    modes = [SessionMode(id=a.name, name=a.name, description=a.description or None) for a in agents]
    names = [m.id for m in modes]
    fallback = names[0] if names else ""
    chosen = next((n for n in (current, preferred, DEFAULT_AGENT) if n and n in names), fallback)
    return SessionModeState(current_mode_id=chosen, available_modes=modes)
