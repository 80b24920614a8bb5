"""Server-sent events from a byte stream, as the HTML standard reads them.

Lines end with CRLF, LF or CR (a CR at the end of a chunk waits for the next one, which may
start with its LF); `event:` names the event, `data:` lines join with newlines, a line starting
with `:` is a comment, `id:` and `retry:` are not used by the Messages API and are dropped; a
blank line dispatches. `finish()` at the end of the body ends a line its last CR ended; an
event the stream never finished (no blank line after it) is not dispatched: the caller tells a
cut stream by the missing `message_stop`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE_END = re.compile(rb"\r\n|\r|\n")


class ServerSentEvent(NamedTuple):
    event: str
    """The event's name; empty when the stream named none."""
    data: str


class SseDecoder:
    """Feed it the body's chunks; it returns the events each chunk completed."""

    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by `chunk`, in order.

        Raises:
            UnicodeDecodeError: a line that is not UTF-8.
        """
        text = self._pending + chunk
        held = b""
        if text.endswith(b"\r"):  # maybe the first half of a CRLF
            text, held = text[:-1], b"\r"
        *lines, rest = _LINE_END.split(text)
        self._pending = rest + held
        events: list[ServerSentEvent] = []
        for raw in lines:
            event = self._line(raw.decode("utf-8"))
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> list[ServerSentEvent]:
        """The events the body's end completes (its last line ended by a lone CR)."""
        pending, self._pending = self._pending, b""
        return self.feed(pending[:-1] + b"\n") if pending.endswith(b"\r") else []

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._event and not self._data:
                return None
            event = ServerSentEvent(self._event, "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        return None
