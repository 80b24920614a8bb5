"""`run_with_grace`: stop a run on a cancel without losing its state, and without waiting forever.

A cancelled run answers its dangling tool calls, stores its transcript and marks the session
`cancelled`; that takes a moment after the cancel event is set. Every front end that can be
cancelled from outside (ACP's `session/cancel`, MCP's `notifications/cancelled`, a cancelled
Temporal activity) gives the run that moment, bounded, then cuts it. This is the one place that
does it, so the grace, the cut and the log line are the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from agent.errors import RunCancelledError

T = TypeVar("T")
log = logging.getLogger(__name__)


async def run_with_grace(
    work: Coroutine[Any, Any, T], cancel: asyncio.Event, *, grace_s: float, what: str
) -> T:
    """Run `work` to its end and return its result.

    When `cancel` is set, or the caller's task is cancelled (which sets `cancel`), the work has
    `grace_s` seconds to finish winding down; then it is cancelled outright. A cancelled caller
    gets its CancelledError back once the work has stopped; otherwise a work that had to be cut
    raises RunCancelledError. `what` names the run in the log line a cut leaves.
    """
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        cancel.set()
        await _wind_down(task, grace_s, what)
        raise
    finally:
        stop.cancel()
    if not task.done():
        await _wind_down(task, grace_s, what)
    if task.cancelled():
        raise RunCancelledError(f"{what}: stopped {grace_s:g} s after the cancel")
    return task.result()


async def _wind_down(task: asyncio.Future[Any], grace_s: float, what: str) -> None:
    """Give `task` `grace_s` to end, shielded from the caller's own cancellation, then cut it."""
    import anyio  # a shield that also holds under anyio's cancel scopes (the MCP server's)

    with anyio.CancelScope(shield=True):
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            log.warning("%s: still going %ss after cancel; stopping it", what, grace_s)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
