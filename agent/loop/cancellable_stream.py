"""Run a piece of work as a task and stream what it emits, stopping at once on a cancel.

The loop uses it twice per turn (the model stream, then the tool calls): the work puts events in
a queue from as many concurrent tasks as it likes, the loop yields them as they arrive, and a set
cancel event cancels the work task (closing the model stream, stopping running tools).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from agent.errors import RunCancelledError
from agent.events import Event, EventSink

T = TypeVar("T")


class Pump(Generic[T]):
    """`async for item in pump.events(): ...`, then `pump.result` holds the work's return value."""

    def __init__(self, work: Callable[[EventSink], Awaitable[T]], cancel: asyncio.Event) -> None:
        self._work = work
        self._cancel = cancel
        self.result: T | None = None

    async def events(self) -> AsyncIterator[Event]:
        """Items as the work emits them; raises RunCancelledError when the cancel event is set."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        task = asyncio.ensure_future(self._work(queue.put_nowait))
        cancelled = asyncio.ensure_future(self._cancel.wait())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({task, getter, cancelled}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                if cancelled in done and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
                    while not queue.empty():
                        yield queue.get_nowait()
                    raise RunCancelledError("cancelled by the caller")
                break
            while not queue.empty():
                yield queue.get_nowait()
            self.result = task.result()
        finally:
            cancelled.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
