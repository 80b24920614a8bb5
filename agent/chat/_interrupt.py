"""Ctrl-C while the agent works: read as a key, not delivered as SIGINT to the process group.

With the terminal in its normal mode, Ctrl-C sends SIGINT to every process in the foreground
group: the git of a checkpoint or any other helper the runtime started would die mid-step. While
a turn runs, the terminal's ISIG flag is off and stdin is watched for the Ctrl-C byte instead, so
only the turn's cancel event hears it. Other keys typed meanwhile are dropped (nothing echoes
over the agent's output). An approval question pauses the watch while prompt_toolkit reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import termios
from collections.abc import Callable, Iterator
from typing import Any

_CTRL_C = b"\x03"


class InterruptKey:
    """Calls `on_interrupt` when Ctrl-C is typed, between `start()` and `stop()`."""

    def __init__(self, on_interrupt: Callable[[], None]) -> None:
        self._on_interrupt = on_interrupt
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    def start(self) -> None:
        if self._saved is not None or not sys.stdin.isatty():
            return
        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~(termios.ISIG | termios.ICANON | termios.ECHO)
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        asyncio.get_running_loop().add_reader(fd, self._on_input)
        self._fd = fd

    def stop(self) -> None:
        if self._saved is None or self._fd is None:
            return
        asyncio.get_running_loop().remove_reader(self._fd)
        termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)
        self._saved = None
        self._fd = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Give the terminal back (to a prompt) for a while."""
        was_on = self._saved is not None
        self.stop()
        try:
            yield
        finally:
            if was_on:
                self.start()

    def _on_input(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 1024)
        except OSError:
            return
        if _CTRL_C in data:
            self._on_interrupt()
