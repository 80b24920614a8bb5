"""Ctrl-C and SIGTERM as a run's cancel: the one wiring of `subagent run` and `subagent demo`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def cancel_on_signals() -> Iterator[asyncio.Event]:
    """An event the first Ctrl-C or SIGTERM sets; a second one interrupts at once.

    SIGTERM (a closed terminal, a process manager) ends the run like Ctrl-C: tools stopped,
    dangling calls answered, the session stored as cancelled and resumable. Call it inside the
    running event loop; the handlers are removed on leaving.
    """
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_interrupt(signum: int) -> None:
        cancel.set()
        loop.remove_signal_handler(signum)  # a second Ctrl-C (or SIGTERM) interrupts at once

    for signum in _SIGNALS:
        loop.add_signal_handler(signum, on_interrupt, signum)
    try:
        yield cancel
    finally:
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)
