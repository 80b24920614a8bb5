"""Lines typed on a terminal, read by one daemon thread and handed to whichever ask is waiting.

Reading the terminal in `asyncio.to_thread` per ask leaked a blocked thread whenever an ask timed
out or was cancelled: that thread ate the answer typed for the next ask, and `asyncio.run` waited
for it at exit, so Ctrl-C during a prompt hung until Enter. Here one daemon thread per terminal
reads for the life of the process (a daemon never holds up the exit), and a line reaches an ask
only if the ask is listening when it arrives: what was typed before the question is dropped.
The thread reads the file descriptor with `os.read`, not the Python file object, so it never
holds the file's buffer lock that interpreter shutdown needs.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TextIO

_Target = tuple[asyncio.AbstractEventLoop, "asyncio.Queue[str | None]"]


class TerminalLines:
    """The terminal's lines for asks: `listen()`, await `queue.get()` (None = closed), `stop()`."""

    def __init__(self, terminal: TextIO) -> None:
        self._terminal = terminal
        self._lock = threading.Lock()
        self._target: _Target | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def listen(self) -> asyncio.Queue[str | None]:
        """A queue that gets each line typed from now on, until `stop()`; starts the reader once."""
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        with self._lock:
            if self._closed:
                queue.put_nowait(None)
            self._target = (asyncio.get_running_loop(), queue)
        if self._thread is None:
            self._thread = threading.Thread(target=self._pump, name="subagent-terminal", daemon=True)
            self._thread.start()
        return queue

    def stop(self) -> None:
        """Lines typed from now on are dropped (until the next `listen`)."""
        with self._lock:
            self._target = None

    def _pump(self) -> None:
        for line in self._lines():
            self._deliver(line)
        with self._lock:
            self._closed = True
        self._deliver(None)

    def _deliver(self, line: str | None) -> None:
        with self._lock:
            target = self._target
        if target is None:
            return  # nobody is asking: typed ahead of the question, dropped
        loop, queue = target
        try:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        except RuntimeError:
            pass  # that ask's event loop has closed

    def _lines(self) -> list[str] | _FdLines:
        try:
            fd = self._terminal.fileno()
        except (OSError, ValueError, AttributeError):  # a stream without a descriptor (tests)
            return self._terminal.readlines()
        return _FdLines(fd)


class _FdLines:
    """Iterate the lines read from a descriptor until end of file or an error."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def __iter__(self) -> _FdLines:
        return self

    def __next__(self) -> str:
        while b"\n" not in self.pending:
            try:
                chunk = os.read(self.fd, 1024)
            except OSError:
                chunk = b""
            if not chunk:
                if self.pending:
                    line, self.pending = self.pending, b""
                    return line.decode("utf-8", "replace")
                raise StopIteration
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode("utf-8", "replace") + "\n"
