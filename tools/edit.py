"""`edit`: replace one exact (or unambiguously near-exact) piece of a file."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from agent.errors import ToolFailure
from agent.events import FileChange
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from tools._files import (
    check_fresh,
    check_writable,
    decode_text,
    encode_text,
    file_change,
    load_bytes,
    store_bytes,
)
from tools._line_endings import span_blocks, splice
from tools._paths import display_path, path_permissions, resolve_path
from tools.schemas import SCHEMA_FILE


class EditInput(ToolInput):
    file_path: str = Field(description="Absolute or workspace-relative path")
    old_string: str = Field(description="Text to replace, copied from the file")
    new_string: str = Field(description="Replacement text")
    replace_all: bool = Field(False, description="Replace every occurrence")


class EditTool(Tool[EditInput]):
    name = "edit"
    description = (
        "Replace old_string with new_string in a file read this session. old_string must match "
        "one place (add context lines) unless replace_all. Returns a diff."
    )
    input_model = EditInput
    kind = "edit"
    stored_schemas = SCHEMA_FILE
    mutates = True

    def title(self, input: EditInput) -> str:
        return f"edit {input.file_path}"

    def preview(self, input: EditInput, ctx: ToolContext) -> str:
        """The replacement as a unified diff of old_string against new_string."""
        import difflib

        diff = difflib.unified_diff(
            input.old_string.splitlines(), input.new_string.splitlines(),
            input.file_path, input.file_path, lineterm="",
        )  # fmt: skip
        every = " (every occurrence)" if input.replace_all else ""
        return "\n".join(diff) + every

    def locations(self, input: EditInput, ctx: ToolContext) -> list[str]:
        return [input.file_path]

    def permission_requests(self, input: EditInput, ctx: ToolContext) -> list[PermissionRequest]:
        return path_permissions("edit", [input.file_path], ctx)

    def conflict_key(self, input: EditInput, ctx: ToolContext) -> str | None:
        try:
            return str(resolve_path(input.file_path, ctx))
        except ToolFailure:
            return input.file_path

    async def run(self, input: EditInput, ctx: ToolContext) -> ToolResult:
        path = resolve_path(input.file_path, ctx)
        current = await load_bytes(path, ctx)
        label = display_path(path, ctx)
        if current is None:
            raise ToolFailure(f"{label}: no such file; use write to create it")
        check_fresh(path, current, ctx.reads)
        check_writable(path, label)
        done = await asyncio.to_thread(_work_out, current, input, path, label)
        await store_bytes(path, done.data, ctx)
        note = "" if done.how == "exact" else f" (matched ignoring {done.how})"
        capped = cap_output(
            f"Edited {label}{note}\n{done.change.diff}", ctx.limits, ctx.data_dir, label="diff"
        )
        return ToolResult(
            output=capped.text,
            files_touched=[str(path)],
            changes=[done.change],
            full_output_path=str(capped.saved_path) if capped.saved_path else None,
        )


@dataclass(frozen=True, eq=False, repr=False)
class _Edited:
    """An edit worked out in memory: the bytes to write, the change to report, the tolerance used."""

    data: bytes
    change: FileChange
    how: str


def _work_out(current: bytes, input: EditInput, path: Path, label: str) -> _Edited:
    from tools._match import replace  # the matcher and its near-miss search: at the first edit

    """Everything between reading and writing, in one function that runs in a thread: matching, the
    nearest lines of a miss and the diff all take time on a big file, and the event loop must not wait."""
    before = decode_text(current)
    done = replace(
        before.text, _as_view(input.old_string), _as_view(input.new_string), input.replace_all, label
    )
    text, endings = splice(before.text, before.endings, span_blocks(before.text, done.spans))
    data = encode_text(text, before, endings, label)
    return _Edited(data, file_change(path, label, before.text, text), done.how)


def _as_view(text: str) -> str:
    """The model's string in the file's LF view: CRLF is a line break, whatever the file uses."""
    return text.replace("\r\n", "\n")
