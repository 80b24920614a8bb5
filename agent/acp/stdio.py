"""Keep stdout for the protocol alone, from the first byte, for the stdio servers.

`claim_stdio()` moves the protocol's stdin and stdout to private descriptors and points fd 0 at
/dev/null and fd 1 at stderr. After it, a stray `print`, a library's log line, a C extension's
write or a child process inheriting the standard descriptors cannot corrupt the JSON-RPC stream
or steal its input. `open_streams` gives asyncio streams over the private descriptors with a
line limit large enough for 1 MB messages (the SDK's reader copes with longer lines too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import NamedTuple

STREAM_LIMIT = 64 * 1024 * 1024
"""Reader buffer limit: far above the largest message an editor sends (asyncio's default is 64 KB)."""


class ClaimedStdio(NamedTuple):
    """The protocol's private descriptors."""

    input_fd: int
    output_fd: int


def claim_stdio() -> ClaimedStdio:
    """Divert fd 0/1 and `sys.stdin`/`sys.stdout`; route logging to stderr. Call it first."""
    input_fd = os.dup(0)
    output_fd = os.dup(1)
    os.set_inheritable(input_fd, False)
    os.set_inheritable(output_fd, False)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull, encoding="utf-8")  # lives as long as the process
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("SUBAGENT_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    return ClaimedStdio(input_fd, output_fd)


class _WriteProtocol(asyncio.streams.FlowControlMixin):
    """Flow control for the writer (what `StreamWriter.drain` waits on)."""


class _FileWriteTransport(asyncio.WriteTransport):
    """Blocking writes to a regular file (`subagent acp > log.jsonl`); asyncio pipes refuse files."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def can_write_eof(self) -> bool:
        return False


def _is_stream(fd: int) -> bool:
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def _feed_from_file(loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader, fd: int) -> None:
    """Read a regular file (`subagent acp < requests.jsonl`) in a thread; asyncio pipes refuse files."""

    def pump() -> None:
        with os.fdopen(fd, "rb", buffering=0) as source:
            while chunk := source.read(65536):
                loop.call_soon_threadsafe(reader.feed_data, chunk)
        loop.call_soon_threadsafe(reader.feed_eof)

    threading.Thread(target=pump, name="stdin-feeder", daemon=True).start()


async def open_streams(claimed: ClaimedStdio) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio reader and writer over the claimed descriptors (pipes, sockets, ttys or files)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=STREAM_LIMIT)
    if _is_stream(claimed.input_fd):
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(claimed.input_fd, "rb", buffering=0)
        )
    else:
        _feed_from_file(loop, reader, claimed.input_fd)
    protocol = _WriteProtocol()
    if _is_stream(claimed.output_fd):
        transport, _ = await loop.connect_write_pipe(
            lambda: protocol, os.fdopen(claimed.output_fd, "wb", buffering=0)
        )
    else:
        transport = _FileWriteTransport(claimed.output_fd)
        protocol.connection_made(transport)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return reader, writer
