"""One run behind an MCP tool call: its event stream consumed in its own task, progress sent to
the client, and, for a 2026-07-28 client, the run kept alive across the calls of its
`input_required` round trips (`LiveRuns`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from agent.errors import SubagentError
from agent.events import (
    Event,
    ResultEvent,
    RunBoundary,
    SessionStartedEvent,
    SubagentStartedEvent,
    ToolCallStartedEvent,
    TurnStartedEvent,
)
from agent.loop.cancel_grace import run_with_grace
from agent.mcp.asks import RoundTrip, approver_for
from agent.runtime.options import RunOptions

CANCEL_GRACE_S = 10.0
"""How long a cancelled run may take to store its state before the handler stops waiting."""


def progress_message(event: Event) -> str | None:
    """One line per step a person (or a client's log) can follow; None for other events."""
    who = "" if event.parent_tool_use_id is None else f"[{event.session_id}] "
    if isinstance(event, SessionStartedEvent) and event.parent_tool_use_id is None:
        warnings = "".join(f"\nWARNING: {line}" for line in event.notices())
        return f"session {event.session_id} started: {event.agent} on {event.model} in {event.cwd}{warnings}"
    if isinstance(event, TurnStartedEvent):
        return f"{who}turn {event.turn}"
    if isinstance(event, ToolCallStartedEvent):
        return f"{who}{event.title}"
    if isinstance(event, SubagentStartedEvent):
        return f"subagent {event.agent} ({event.child_session_id}): {event.description}"
    return None


class McpRun:
    """One run's event stream, consumed in its own task so a cancelled call can still wind it
    down, and so a round trip's second call can pick it up where the first left it."""

    def __init__(self, ctx: Any, options: RunOptions, round_trip: RoundTrip | None) -> None:
        self.ctx = ctx
        """The call the progress goes to (each call of a round trip replaces it)."""
        self.round_trip = round_trip
        self.cancel = asyncio.Event()
        self.options = options.model_copy(
            update={"approver": approver_for(ctx, round_trip), "cancel": self.cancel}
        )
        self.session_id = ""
        self.boundary = RunBoundary()
        self.result: ResultEvent | None = None
        self.steps = 0
        self._task: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the run in its own task; a cancel gives it CANCEL_GRACE_S to store its state."""
        work = run_with_grace(self._consume(), self.cancel, grace_s=CANCEL_GRACE_S, what="an MCP run")
        self._task = asyncio.ensure_future(work)

    def _events(self) -> AsyncIterator[Event]:
        from agent.api import run_events

        return run_events(self.options)

    async def _consume(self) -> None:
        async for event in self._events():
            if isinstance(event, SessionStartedEvent) and not self.session_id:
                self.session_id = event.session_id
                self.boundary = event.boundary()
            if isinstance(event, ResultEvent) and event.parent_tool_use_id is None:
                self.result = event
            message = progress_message(event)
            if message is not None and not self.cancel.is_set():
                self.steps += 1
                try:
                    await self.ctx.report_progress(self.steps, None, message)
                except Exception:  # a call that ended (between round trips) takes no progress
                    pass

    def outcome(self) -> dict[str, Any]:
        """Result fields a kind of run sets beyond the stream's result (`IsolatedRun`'s merge)."""
        return {}

    async def settle(self) -> bool:
        """Wait until the run ends (True) or, in a round trip, an ask waits for the client (False).

        On cancellation the run is signalled; `run_with_grace` bounds how long it may take to
        store its state, and this waits (shielded) for that.

        Raises:
            SubagentError: the run could not start, failed outside the loop, or had to be cut.
        """
        import anyio

        assert self._task is not None, "start() first"
        try:
            await self._wait()
        except asyncio.CancelledError:
            self.cancel.set()
            with anyio.CancelScope(shield=True):
                await asyncio.wait({self._task})
            if not self._task.cancelled():
                self._task.exception()  # retrieved: the caller's cancellation is what it gets
            raise
        if not self._task.done():
            return False
        self._task.result()  # raises what the run raised
        return True

    async def _wait(self) -> None:
        assert self._task is not None
        trip = self.round_trip
        while not self._task.done():
            if trip is not None:
                trip.changed.clear()
                if trip.pending:
                    return
            waiters: set[asyncio.Future[Any]] = {self._task}
            changed = asyncio.ensure_future(trip.changed.wait()) if trip is not None else None
            if changed is not None:
                waiters.add(changed)
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if changed is not None:
                    changed.cancel()


class LiveRuns:
    """Runs waiting for a 2026-07-28 client to answer their asks, by the token in request_state."""

    def __init__(self) -> None:
        self._runs: dict[str, McpRun] = {}

    def keep(self, run: McpRun) -> str:
        token = uuid.uuid4().hex
        self._runs[token] = run
        return token

    def resume(self, token: str, ctx: Any) -> McpRun:
        """The run `token` names, with the client's answers delivered.

        Raises:
            SubagentError: no such run here (the server restarted, or it already ended).
        """
        run = self._runs.get(token)
        if run is None or run.round_trip is None:
            raise SubagentError(
                "the run these answers belong to is not running in this server (it ended, or the "
                "server restarted); continue its session with reply"
            )
        run.ctx = ctx
        run.round_trip.answer(dict(ctx.input_responses or {}))
        return run

    def drop(self, token: str) -> None:
        self._runs.pop(token, None)
