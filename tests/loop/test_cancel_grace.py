"""run_with_grace: a cancelled run gets its moment to store its state, then is cut; the same for
a cancel event (ACP) and a cancelled caller, also under anyio's cancel scopes (MCP)."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from agent.errors import RunCancelledError
from agent.loop.cancel_grace import run_with_grace


class Run:
    """A run that, once cancelled, stores its state (or, stubborn, never stops by itself)."""

    def __init__(self, cancel: asyncio.Event, *, stubborn: bool = False) -> None:
        self.cancel = cancel
        self.stubborn = stubborn
        self.stored = False
        self.cut = False
        self.started = asyncio.Event()

    async def __call__(self) -> str:
        self.started.set()
        try:
            await self.cancel.wait()
            if self.stubborn:
                await asyncio.Event().wait()
            await asyncio.sleep(0)  # storing the transcript takes a moment
            self.stored = True
            return "cancelled, stored"
        except asyncio.CancelledError:
            self.cut = True
            raise


async def test_a_run_that_ends_by_itself_returns_its_result() -> None:
    async def work() -> int:
        return 7

    assert await run_with_grace(work(), asyncio.Event(), grace_s=5, what="t") == 7


async def test_a_run_that_fails_raises_its_error() -> None:
    async def work() -> None:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        await run_with_grace(work(), asyncio.Event(), grace_s=5, what="t")


async def test_a_cancel_event_lets_the_run_store_its_state() -> None:
    cancel = asyncio.Event()
    run = Run(cancel)
    waiting = asyncio.ensure_future(run_with_grace(run(), cancel, grace_s=30, what="t"))
    await run.started.wait()
    cancel.set()
    assert await waiting == "cancelled, stored"
    assert run.stored and not run.cut


async def test_a_run_that_does_not_stop_is_cut_after_the_grace() -> None:
    cancel = asyncio.Event()
    run = Run(cancel, stubborn=True)
    cancel.set()
    with pytest.raises(RunCancelledError, match=r"stopped 0\.01 s after the cancel"):
        await run_with_grace(run(), cancel, grace_s=0.01, what="t")
    assert run.cut and not run.stored


async def test_a_cancelled_caller_sets_the_cancel_and_waits_for_the_wind_down() -> None:
    cancel = asyncio.Event()
    run = Run(cancel)
    caller = asyncio.ensure_future(run_with_grace(run(), cancel, grace_s=30, what="t"))
    await run.started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert cancel.is_set() and run.stored and not run.cut


async def test_the_wind_down_holds_under_an_anyio_cancel_scope() -> None:
    cancel = asyncio.Event()
    run = Run(cancel)
    async with anyio.create_task_group() as group:

        async def call() -> None:
            await run_with_grace(run(), cancel, grace_s=30, what="t")
            raise AssertionError("the call was not cancelled")

        group.start_soon(call)
        await run.started.wait()
        group.cancel_scope.cancel()  # level-triggered: every await in the scope is cancelled again
    assert cancel.is_set() and run.stored and not run.cut
