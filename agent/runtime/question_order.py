"""The permission question reaches the front end after the tool call it is about.

The loop emits `ToolCallStartedEvent`, then `PermissionAskedEvent`, then asks the gate, which asks
the approver; but the events travel through a queue to whoever iterates the run, so without more
the approver could put its question (a terminal prompt, an ACP `session/request_permission`)
before the front end has shown the call. `QuestionAfterShown` closes that gap without a timer:
the root run marks each `PermissionAskedEvent` once its consumer has taken it and come back for
the next event (so whatever the front end does with an event, it has done), and the approver
it wraps is asked only then. Subagents' asks come up the same stream and go to the same
(wrapped) approver through their gate, so they are ordered the same way.
"""

from __future__ import annotations

import asyncio

from agent.events import Event, PermissionAskedEvent
from agent.permissions.models import Approver, AskAnswer, AskRequest


class QuestionAfterShown:
    """An approver that asks the one it wraps only after the front end took the ask's event."""

    def __init__(self, approver: Approver) -> None:
        self._approver = approver
        self._shown: dict[tuple[str, str], asyncio.Event] = {}

    def _mark(self, session_id: str, tool_use_id: str) -> asyncio.Event:
        return self._shown.setdefault((session_id, tool_use_id), asyncio.Event())

    def taken(self, event: Event) -> None:
        """The consumer has handled `event` (the run's generator was resumed after yielding it)."""
        if isinstance(event, PermissionAskedEvent):
            self._mark(event.session_id, event.tool_use_id).set()

    async def ask(self, request: AskRequest) -> AskAnswer:
        """The wrapped approver's answer, asked once the call's `permission_asked` was taken."""
        shown = self._mark(request.session_id, request.tool_use_id)
        try:
            await shown.wait()
        finally:
            self._shown.pop((request.session_id, request.tool_use_id), None)
        return await self._approver.ask(request)
