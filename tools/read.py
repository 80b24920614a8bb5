"""`read`: a file numbered like `cat -n`, a folder's entries, or an image.

The file is opened once, without following a link (`tools._fs`: what opens is the path the policy
allowed), and read in chunks (`tools._linescan`): offset and limit read what they need, and no call
reads more than MAX_SCAN_BYTES whatever the file claims to be. A FIFO, socket or device is refused
before anything is read, so nothing blocks.
"""

import asyncio
import base64
import itertools
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.errors import ToolFailure
from agent.tool import ImageBlock, PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from tools import _fs
from tools._files import MAX_EDIT_BYTES, is_binary
from tools._linescan import LineScanner, Scan, ShownLine, scan
from tools._paths import display_path, path_permissions, printable, resolve_path
from tools.schemas import SCHEMA_FILE

_IMAGES: dict[str, Literal["image/png", "image/jpeg", "image/gif", "image/webp"]] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_MAX_IMAGE_BYTES = 5 * 1024 * 1024
_MAX_ENTRIES = 1000
_MIB = 1024 * 1024
MAX_SCAN_BYTES = 64 * _MIB
"""The most one read call reads of a file too big to edit (looking for its offset)."""
_WINDOW_BUDGET = 4 * _MIB
"""The most bytes of lines one answer holds (a huge `limit` ends the window early)."""
_THREAD_ABOVE = _MIB
"""Files bigger than this are scanned on a thread, so the event loop never waits on them."""


class ReadInput(ToolInput):
    file_path: str = Field(description="Absolute or workspace-relative path")
    offset: int | None = Field(None, ge=1, description="First line (1-based)")
    limit: int | None = Field(None, ge=1, description="Lines to read (default 2000)")


@dataclass(eq=False, repr=False)
class _Source:
    """A file's bytes as they come: from its descriptor, or an editor's buffer."""

    chunks: Iterator[bytes]
    size: int
    """What the file claims (fstat), or the buffer's length."""


class ReadTool(Tool[ReadInput]):
    name = "read"
    description = (
        "Read a file as numbered lines (`N<TAB>text`), a directory's entries, or an image. "
        "Use offset/limit for long files. Read a file before changing it."
    )
    input_model = ReadInput
    kind = "read"
    stored_schemas = SCHEMA_FILE

    def title(self, input: ReadInput) -> str:
        return f"read {input.file_path}"

    def locations(self, input: ReadInput, ctx: ToolContext) -> list[str]:
        return [f"{input.file_path}:{input.offset}" if input.offset else input.file_path]

    def permission_requests(self, input: ReadInput, ctx: ToolContext) -> list[PermissionRequest]:
        return path_permissions("read", [input.file_path], ctx)

    async def run(self, input: ReadInput, ctx: ToolContext) -> ToolResult:
        """The file (or folder, or image), then the run's notes for it (`ToolContext.read_notes`)."""
        result = await self._read(input, ctx)
        note = (
            ctx.read_notes(Path(input.file_path))
            if ctx.read_notes is not None and not result.is_error
            else None
        )
        return result if note is None else result.model_copy(update={"output": f"{result.output}\n\n{note}"})

    async def _read(self, input: ReadInput, ctx: ToolContext) -> ToolResult:
        path = resolve_path(input.file_path, ctx, read_only=True)
        opened = _fs.open_for_reading(path)
        if opened is not None and opened.is_dir:
            with opened:
                return ToolResult(output=_listing(path, opened), files_touched=[printable(str(path))])
        buffer = await ctx.editor.read_text(path) if ctx.editor is not None else None
        if buffer is not None:
            if opened is not None:
                opened.close()
            data = buffer.encode("utf-8")
            return self._answer(path, _Source(iter((data,)), len(data)), input, ctx)
        if opened is None:
            raise ToolFailure(f"{printable(input.file_path)}: no such file ({printable(str(path))})")
        with opened:
            source = _Source(opened.chunks(), opened.stat.st_size)
            if source.size > _THREAD_ABOVE:
                return await asyncio.to_thread(self._answer, path, source, input, ctx)
            return self._answer(path, source, input, ctx)

    def _answer(self, path: Path, source: _Source, input: ReadInput, ctx: ToolContext) -> ToolResult:
        first = next(source.chunks, b"")
        media = _IMAGES.get(path.suffix.lower())
        if media is not None:
            return _image(path, first, source, media)
        label = display_path(path, ctx)
        if is_binary(first):
            kind = mimetypes.guess_type(path.name)[0] or "unknown type"
            raise ToolFailure(
                f"{label} is a binary file ({source.size} bytes, {kind}); it cannot be read as text"
            )
        whole = source.size <= MAX_EDIT_BYTES  # small enough to edit: scan it all, hash it
        width = ctx.limits.max_line_chars
        scanner = LineScanner(
            (input.offset or 1) - 1,
            input.limit or ctx.limits.max_lines,
            width * 4 + 4,
            _WINDOW_BUDGET,
            hasher=ctx.reads.hasher() if whole else None,
        )
        found = scan(
            itertools.chain((first,), source.chunks),
            scanner,
            stop_early=not whole,
            max_bytes=MAX_EDIT_BYTES + 1 if whole else MAX_SCAN_BYTES,
        )
        if found.digest is not None:
            ctx.reads.record_digest(path, found.digest)
        else:  # not hashed whole: nothing may be changed on the strength of this read
            ctx.reads.forget(path)
        return _numbered(path, label, found, source.size, input, ctx)


def _numbered(
    path: Path, label: str, found: Scan, size: int, input: ReadInput, ctx: ToolContext
) -> ToolResult:
    if found.complete and found.text_bytes == 0:
        return ToolResult(
            output=f"{label}: the file is empty (0 bytes)", files_touched=[printable(str(path))]
        )
    if not found.lines:
        if found.complete:
            raise ToolFailure(f"{label} has {found.total} lines; offset {input.offset} is past the end")
        raise ToolFailure(
            f"{label}: offset {input.offset} is past the first {MAX_SCAN_BYTES // _MIB} MiB "
            f"({found.total} lines) a read looks through; the file has {size} bytes. Find the "
            "line with grep (output_mode content) and read from there"
        )
    width = ctx.limits.max_line_chars
    body = "\n".join(_line(found.first + i + 1, line, found, width) for i, line in enumerate(found.lines))
    capped = cap_output(body, ctx.limits, ctx.data_dir, label="read")
    text_out = capped.text
    end = found.first + len(found.lines)
    if not capped.truncated:
        if not found.complete:
            text_out += f"\n[more lines follow (the file has {size} bytes); continue with offset={end + 1}]"
        elif found.total > end:
            text_out += f"\n[{found.total - end} more lines; continue with offset={end + 1}]"
    return ToolResult(
        output=text_out,
        files_touched=[printable(str(path))],
        full_output_path=str(capped.saved_path) if capped.saved_path else None,
    )


def _line(number: int, line: ShownLine, found: Scan, width: int) -> str:
    """`N<TAB>text`, the text decoded as the whole file is and cut at `width` characters."""
    head = bytes(line.head)
    text = head.decode("utf-8", "ignore") if found.utf8 else head.decode("latin-1")
    chars = line.chars_utf8 if found.utf8 else line.size
    if line.ended and line.cr:  # the LF view (decode_text) drops the CR of a CRLF
        chars -= 1
        if len(head) == line.size:
            text = text.removesuffix("\r")
    cut = f"... [line cut: {chars} chars]" if chars > width else ""
    return f"{number:>6}\t{text[:width]}{cut}"


def _listing(path: Path, opened: _fs.OpenFile) -> str:
    """The folder's entries, sorted, folders marked `/`; names that are not UTF-8 escaped."""
    names = [printable(name) + ("/" if is_dir else "") for name, is_dir in opened.entries()]
    more = len(names) - _MAX_ENTRIES
    listing = "\n".join(names[:_MAX_ENTRIES]) or "(empty directory)"
    return f"{printable(str(path))}/\n{listing}" + (f"\n[{more} more entries not shown]" if more > 0 else "")


def _image(
    path: Path,
    first: bytes,
    source: _Source,
    media: Literal["image/png", "image/jpeg", "image/gif", "image/webp"],
) -> ToolResult:
    shown = printable(str(path))
    parts, size = [first], len(first)
    for chunk in source.chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > _MAX_IMAGE_BYTES:
            break
    if size > _MAX_IMAGE_BYTES:
        raise ToolFailure(
            f"{shown}: image of {max(size, source.size)} bytes is over the {_MAX_IMAGE_BYTES} byte limit"
        )
    data = b"".join(parts)
    block = ImageBlock(media_type=media, data_base64=base64.b64encode(data).decode("ascii"))
    return ToolResult(
        output=f"{shown}: image ({media}, {len(data)} bytes)", images=[block], files_touched=[shown]
    )
