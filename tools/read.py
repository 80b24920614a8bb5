"""`read`: a file numbered like `cat -n`, a folder's entries, or an image."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.errors import ToolFailure
from tools._files import decode_text, is_binary, load_bytes
from tools._paths import display_path, path_permissions, resolve_path
from tools._truncate import cap_output
from tools.base import ImageBlock, PermissionRequest, Tool, ToolContext, ToolInput, ToolResult

_IMAGES: dict[str, Literal["image/png", "image/jpeg", "image/gif", "image/webp"]] = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp",
}
_MAX_IMAGE_BYTES = 5 * 1024 * 1024
_MAX_ENTRIES = 1000


class ReadInput(ToolInput):
    file_path: str = Field(description="Absolute or workspace-relative path")
    offset: int | None = Field(None, ge=1, description="First line (1-based)")
    limit: int | None = Field(None, ge=1, description="Lines to read (default 2000)")


class ReadTool(Tool[ReadInput]):
    name = "read"
    description = (
        "Read a file as numbered lines (`N<TAB>text`), a directory's entries, or an image. "
        "Use offset/limit for long files. Read a file before changing it."
    )
    input_model = ReadInput
    kind = "read"

    def title(self, input: ReadInput) -> str:
        return f"read {input.file_path}"

    def locations(self, input: ReadInput, ctx: ToolContext) -> list[str]:
        return [f"{input.file_path}:{input.offset}" if input.offset else input.file_path]

    def permission_requests(self, input: ReadInput, ctx: ToolContext) -> list[PermissionRequest]:
        return path_permissions("read", [input.file_path], ctx)

    async def run(self, input: ReadInput, ctx: ToolContext) -> ToolResult:
        path = resolve_path(input.file_path, ctx)
        if path.is_dir():
            return ToolResult(output=_list_dir(path), files_touched=[str(path)])
        data = await load_bytes(path, ctx)
        if data is None:
            raise ToolFailure(f"{input.file_path}: no such file ({path})")
        media = _IMAGES.get(path.suffix.lower())
        if media is not None:
            return _image(path, data, media)
        if is_binary(data):
            kind = mimetypes.guess_type(path.name)[0] or "unknown type"
            raise ToolFailure(f"{display_path(path, ctx)} is a binary file ({len(data)} bytes, {kind}); "
                              "it cannot be read as text")
        ctx.reads.record(path, data)
        return self._numbered(path, data, input, ctx)

    def _numbered(self, path: Path, data: bytes, input: ReadInput, ctx: ToolContext) -> ToolResult:
        text = decode_text(data).text
        label = display_path(path, ctx)
        if not text:
            return ToolResult(output=f"{label}: the file is empty (0 bytes)", files_touched=[str(path)])
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        start = (input.offset or 1) - 1
        if start >= len(lines):
            raise ToolFailure(f"{label} has {len(lines)} lines; offset {input.offset} is past the end")
        limit = input.limit or ctx.limits.max_lines
        width = ctx.limits.max_line_chars
        shown = lines[start:start + limit]
        out = [
            f"{start + i + 1:>6}\t{ln[:width]}"
            + (f"... [line cut: {len(ln)} chars]" if len(ln) > width else "")
            for i, ln in enumerate(shown)
        ]
        body = "\n".join(out)
        capped = cap_output(body, ctx.limits, ctx.data_dir, label="read")
        text_out = capped.text
        rest = len(lines) - start - len(shown)
        if rest > 0 and not capped.truncated:
            text_out += f"\n[{rest} more lines; continue with offset={start + len(shown) + 1}]"
        return ToolResult(output=text_out, files_touched=[str(path)],
                          full_output_path=str(capped.saved_path) if capped.saved_path else None)


def _list_dir(path: Path) -> str:
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    names = [p.name + ("/" if p.is_dir() else "") for p in entries]
    more = len(names) - _MAX_ENTRIES
    listing = "\n".join(names[:_MAX_ENTRIES]) or "(empty directory)"
    return f"{path}/\n{listing}" + (f"\n[{more} more entries not shown]" if more > 0 else "")


def _image(path: Path, data: bytes, media: Literal["image/png", "image/jpeg", "image/gif", "image/webp"]
           ) -> ToolResult:
    if len(data) > _MAX_IMAGE_BYTES:
        raise ToolFailure(f"{path}: image of {len(data)} bytes is over the {_MAX_IMAGE_BYTES} byte limit")
    block = ImageBlock(media_type=media, data_base64=base64.b64encode(data).decode("ascii"))
    return ToolResult(output=f"{path}: image ({media}, {len(data)} bytes)", images=[block],
                      files_touched=[str(path)])
