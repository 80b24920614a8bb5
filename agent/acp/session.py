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

log = logging.getLogger(__name__)


@dataclass
class AcpSession:
    """One ACP session: where it runs, which primary agent, and the current turn."""

    id: str
    cwd: Path
    mode: str
    approver: AcpApprover = field(init=False)
    editor: AcpEditorBuffers | None = None
    cancel: asyncio.Event | None = None
    mapper: UpdateMapper | None = None
    announced: dict[str, asyncio.Event] = field(default_factory=dict)
    """ACP tool call id -> set once its `tool_call` update was written (asks wait for it)."""
    outbox: Outbox | None = None
    untitled: bool = False
    """Created by `session/new` and not prompted yet: the first prompt becomes its title."""
    notices_shown: set[str] = field(default_factory=set)
    """Boundary notices (no sandbox, network, refused keys) this session has shown already."""


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
        while (update := await self._next()) is not None:
            try:
                await self._conn.session_update(session_id=self._session.id, update=update)
            except ConnectionError:
                log.warning("session %s: the client went away; dropping updates", self._session.id)
                return
            if update.session_update == "tool_call":
                self._session.announced.setdefault(update.tool_call_id, asyncio.Event()).set()

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._task


JOINABLE = ("agent_message_chunk", "agent_thought_chunk")


def set_title(session_id: str, prompt: str) -> None:
    from agent.sessions.store import SqliteSessionStore

    store = SqliteSessionStore()
    try:
        store.update(session_id, title=" ".join(prompt.split())[:80])
    finally:
        store.close()


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
