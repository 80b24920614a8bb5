"""Stream one model turn into loop events; the complete message lands in `TurnOutcome.done`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from agent.errors import ModelAPIError
from agent.events import (
    ErrorEvent,
    EventSink,
    EventT,
    ModelFallbackEvent,
    TextDeltaEvent,
    ThinkingDeltaEvent,
)
from agent.model.base import MessageDoneEvent, ModelClient, ModelRequest


class MakeEvent(Protocol):
    """Makes an event of the session: the caller fills in the session's ids."""

    def __call__(self, cls: type[EventT], /, **fields: Any) -> EventT: ...


@dataclasses.dataclass(eq=False, repr=False)
class TurnOutcome:
    """How a model turn ended: its last message, and the model that answered instead."""

    done: MessageDoneEvent | None = None
    fallback: str | None = None
    """The model that answered instead of the request's, when it stayed overloaded."""


async def stream_turn(
    client: ModelClient,
    request: ModelRequest,
    outcome: TurnOutcome,
    make_event: MakeEvent,
    announce: Callable[[str], None],
    emit: EventSink,
) -> None:
    """Emit deltas as they arrive; a retried turn is announced, its partial output abandoned.

    `announce(name)` is called when the model begins writing a call to tool `name`."""
    async for item in client.stream(request):
        if item.kind == "tool_input":
            announce(item.name)
        elif item.kind == "text":
            emit(make_event(TextDeltaEvent, text=item.text))
        elif item.kind == "thinking":
            emit(make_event(ThinkingDeltaEvent, text=item.text))
        elif item.kind == "retry":
            emit(
                make_event(
                    ErrorEvent,
                    message=f"{item.message}; retrying in {item.delay_s:.1f}s",
                    error_type=item.error_type,
                    retrying=True,
                )
            )
        elif item.kind == "fallback":
            outcome.fallback = item.to_model
            emit(
                make_event(
                    ModelFallbackEvent,
                    from_model=item.from_model,
                    to_model=item.to_model,
                    reason=item.message,
                )
            )
        elif item.kind == "done":
            outcome.done = item
    if outcome.done is None:
        raise ModelAPIError(
            "the model stream ended without a complete message", error_type="incomplete_stream"
        )
