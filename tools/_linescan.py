"""The lines `read` shows, found in one pass over a file's chunks, keeping only the window.

`read` with offset and limit must not hold the file: a 2 GB log read at `limit: 5` keeps five
lines (each cut to what can be shown) and stops. A file small enough to edit is scanned to its end
anyway, for what only the whole file gives: its content hash (the read-before-edit guard), its
line count ("[N more lines]"), and whether it is UTF-8 (else `tools._files.decode_text` reads it
as Latin-1), so the window reads exactly as the edit tools see the file (their LF view: the CR of
each CRLF dropped, a lone CR kept).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agent.tool import Hasher

_CONTINUATION = bytes(range(0x80, 0xC0))
"""UTF-8 continuation bytes: a line's character count is its byte count less these."""
_BOM = b"\xef\xbb\xbf"


@dataclass(eq=False, repr=False)
class ShownLine:
    """One line of the window: its start (enough bytes for the widest line shown) and its size."""

    head: bytearray = field(default_factory=bytearray)
    size: int = 0
    """Bytes in the whole line, newline excluded."""
    chars_utf8: int = 0
    """Characters in the whole line if it is UTF-8 (bytes less continuation bytes)."""
    ended: bool = False
    """Ended by a newline (the last line of a file may not be)."""
    cr: bool = False
    """Its last byte is a CR: with the newline, a CRLF (the LF view drops that CR)."""


@dataclass(frozen=True, eq=False, repr=False)
class Scan:
    """What one pass found."""

    lines: list[ShownLine]
    first: int
    """0-based number of the first line in `lines`."""
    complete: bool
    """The file was read to its end: `total`, `digest` and `utf8` are the whole file's."""
    total: int
    """Lines seen (the file's line count when complete)."""
    text_bytes: int
    """Bytes read, a leading BOM excluded."""
    digest: str | None
    """The hasher's digest of every byte, when complete and a hasher was given."""
    utf8: bool


class LineScanner:
    """Feed chunks in order: it counts lines and keeps the window `[start, start + limit)`, each
    line's first `keep_bytes`, and at most `budget` bytes of them in all (the window ends early
    rather than hold more)."""

    def __init__(
        self, start: int, limit: int, keep_bytes: int, budget: int, *, hasher: Hasher | None
    ) -> None:
        self.start, self.limit, self.keep, self.budget = start, limit, keep_bytes, budget
        self.lines: list[ShownLine] = []
        self.line_no = 0
        """Newlines seen so far."""
        self.size = 0
        self._text = 0
        self._kept = 0
        self._hash = hasher
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self._last_byte = b""
        self._open: ShownLine | None = None
        self._lead: bytes | None = b""

    @property
    def window_full(self) -> bool:
        return self._open is None and self.line_no >= self.start + self.limit

    def feed(self, chunk: bytes) -> None:
        if self._hash is not None:
            self._hash.update(chunk)
        self.size += len(chunk)
        if self._lead is not None:  # the first bytes: a BOM is dropped, even split across chunks
            self._lead += chunk
            if len(self._lead) < len(_BOM) and _BOM.startswith(self._lead):
                return
            chunk, self._lead = self._lead.removeprefix(_BOM), None
        self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._judge(chunk)
        self._text += len(chunk)
        self._split(chunk)

    def _judge(self, chunk: bytes) -> None:
        """Keep the whole-file facts: UTF-8 validity, the last byte."""
        if self._utf8:
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self._utf8 = False
        self._last_byte = chunk[-1:]

    def _split(self, chunk: bytes) -> None:
        pos = self._skip_to_window(chunk)
        while pos < len(chunk):
            if self.window_full:
                self.line_no += chunk.count(b"\n", pos)  # past the window: count only
                return
            end = chunk.find(b"\n", pos)
            self._add(chunk[pos:] if end < 0 else chunk[pos:end])
            if end < 0:
                return
            self._end_line()
            pos = end + 1

    def _skip_to_window(self, chunk: bytes) -> int:
        """Where in `chunk` the window's first line starts (len(chunk) when it is further on)."""
        if self._open is not None or self.line_no >= self.start:
            return 0
        need = self.start - self.line_no
        if chunk.count(b"\n") < need:
            self.line_no += chunk.count(b"\n")
            return len(chunk)
        pos = 0
        for _ in range(need):
            pos = chunk.index(b"\n", pos) + 1
        self.line_no = self.start
        return pos

    def _add(self, piece: bytes) -> None:
        if self._open is None:
            self._open = ShownLine()
        line = self._open
        room = self.keep - len(line.head)
        if room > 0:
            line.head += piece[:room]
        line.size += len(piece)
        line.chars_utf8 += len(piece.translate(None, _CONTINUATION))
        if piece:
            line.cr = piece.endswith(b"\r")

    def _end_line(self) -> None:
        if self._open is not None:
            self._open.ended = True
            self._keep(self._open)
            self._open = None
        self.line_no += 1

    def _keep(self, line: ShownLine) -> None:
        self.lines.append(line)
        self._kept += len(line.head)
        if self._kept >= self.budget:  # no more lines than the budget holds: the window ends here
            self.limit = min(self.limit, self.line_no + 1 - self.start)

    def finish(self, complete: bool) -> Scan:
        """The result; `complete` says the chunks reached the end of the file."""
        if self._lead is not None:  # shorter than a BOM: it was text
            self._take(self._lead)
            self._lead = None
        if self._open is not None:  # a last line without a newline, or one cut by the stop
            self._keep(self._open)
            self._open = None
        open_end = complete and self._text > 0 and self._last_byte != b"\n"
        if complete and self._utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8 = False
        return Scan(
            lines=self.lines,
            first=self.start,
            complete=complete,
            total=self.line_no + open_end,
            text_bytes=self._text,
            utf8=self._utf8,
            digest=self._hash.hexdigest() if complete and self._hash is not None else None,
        )


def scan(chunks: Iterable[bytes], scanner: LineScanner, *, stop_early: bool, max_bytes: int) -> Scan:
    """Run `scanner` over `chunks`. With `stop_early`, stop once the window is full and one more
    chunk was read (so "more lines follow" is known); always stop at `max_bytes`. The scan is
    complete when the chunks ran out first."""
    it: Iterator[bytes] = iter(chunks)
    for chunk in it:
        scanner.feed(chunk)
        if scanner.size >= max_bytes:
            return scanner.finish(complete=False)
        if stop_early and scanner.window_full:
            after = next(it, None)
            if after is None:
                return scanner.finish(complete=True)
            scanner.feed(after)
            return scanner.finish(complete=False)
    return scanner.finish(complete=True)
