"""The session a run goes on in: a new one, the one resumed or continued, or a fork; and a resumed
session's history, repaired, read under its lock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.errors import ConfigError, UnknownSessionError
from agent.registry.spec import AgentSpec
from agent.runtime.parts import RuntimeParts
from agent.sessions.base import SessionRecord, SessionStore
from agent.transcript import Message, ToolResultBlock, tool_uses


async def open_session(
    store: SessionStore,
    *,
    spec: AgentSpec,
    cwd: Path,
    model: str,
    resume: str | None,
    continue_latest: bool,
    fork: bool,
    parent_tool_use_id: str | None,
    title: str,
    parent_id: str | None = None,
    session_id: str | None = None,
) -> tuple[SessionRecord, bool]:
    """The session to run in, and whether it has a history (it was resumed or forked).

    `session_id` names the new session or the fork (a caller's `--session-id`); one already stored
    is an error.
    """
    record: SessionRecord | None = None
    if resume:
        record = await asyncio.to_thread(store.get, resume)
    elif continue_latest:
        record = await asyncio.to_thread(store.latest, cwd)
        if record is None:
            raise ConfigError(f"no session to continue in {cwd}; start one with `subagent run PROMPT`")
    if session_id is not None:
        await asyncio.to_thread(_refuse_existing, store, session_id)
    if record is not None and fork:
        record = await asyncio.to_thread(store.fork, record.id, session_id)
    if record is None:
        record = await asyncio.to_thread(
            store.create,
            agent=spec.name,
            workspace=cwd,
            model=model,
            parent_tool_use_id=parent_tool_use_id,
            parent_id=parent_id,
            title=title[:80],
            session_id=session_id,
        )
        return record, False
    return record, True


def _refuse_existing(store: SessionStore, session_id: str) -> None:
    try:
        existing = store.get(session_id)
    except UnknownSessionError:
        return
    if existing.id == session_id:
        raise ConfigError(
            f"session {session_id} already exists; to continue it, pass --resume {session_id} "
            "instead of --session-id"
        )


async def load_history(
    store: SessionStore, parts: RuntimeParts, session_id: str
) -> tuple[list[Message], int]:
    """The repaired history of a resumed session and the seq of its last stored message; read
    under the session's lock, so no live run is writing it.

    The history starts from the session's latest stored compaction, so a compacted session is
    not compacted (and summarized) again on every resume. The answers repair gives to tool calls
    a crash left dangling are stored too: the transcript then says what the model was told, and
    the next run does not have to invent them again.
    """
    resume = await asyncio.to_thread(store.messages_for_resume, session_id)
    started = await asyncio.to_thread(store.started_tools, session_id)
    raw, last_seq = resume.messages, resume.last_seq
    history = parts.repair(raw, started)
    if raw and raw[-1].role == "assistant" and history and history[-1].role == "user":
        calls = [call.id for call in tool_uses(raw[-1].content)]
        answers = history[-1].content
        if calls and [b.tool_use_id if isinstance(b, ToolResultBlock) else None for b in answers] == calls:
            last_seq = await asyncio.to_thread(store.append_message, session_id, "user", answers)
    return history, last_seq


async def claim(store: SessionStore, record: SessionRecord, *, first_run: bool) -> None:
    """Mark the session `running` for this run; called under its lock.

    A stored `running` means the last holder died without finishing (kill -9, power loss), since
    only a live run holds the lock: that run is recorded as `interrupted` first. A fork is new and
    has had no run yet.
    """
    if record.status == "running" and not first_run:
        await asyncio.to_thread(store.update, record.id, status="interrupted")
    await asyncio.to_thread(store.update, record.id, status="running")
