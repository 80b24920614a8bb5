"""`write`: create a file, or replace one read in this session and unchanged since."""

from pydantic import Field

from agent.errors import ToolFailure
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from tools._files import (
    check_fresh,
    check_writable,
    decode_text,
    encode_text,
    file_change,
    load_bytes,
    store_bytes,
)
from tools._paths import display_path, path_permissions, resolve_path
from tools.schemas import SCHEMA_FILE


class WriteInput(ToolInput):
    file_path: str = Field(description="Absolute or workspace-relative path")
    content: str = Field(description="The whole new file content")


class WriteTool(Tool[WriteInput]):
    name = "write"
    description = (
        "Write a whole file, creating parent folders. An existing file must be read first. "
        "Prefer edit for changes to existing files."
    )
    input_model = WriteInput
    kind = "edit"
    stored_schemas = SCHEMA_FILE
    mutates = True

    def title(self, input: WriteInput) -> str:
        return f"write {input.file_path}"

    def preview(self, input: WriteInput, ctx: ToolContext) -> str:
        """The new content as added lines under the file's name (the loop caps its length)."""
        lines = [f"+{line}" for line in input.content.splitlines()]
        return "\n".join([f"+++ {input.file_path}", *lines])

    def locations(self, input: WriteInput, ctx: ToolContext) -> list[str]:
        return [input.file_path]

    def permission_requests(self, input: WriteInput, ctx: ToolContext) -> list[PermissionRequest]:
        return path_permissions("edit", [input.file_path], ctx)

    def conflict_key(self, input: WriteInput, ctx: ToolContext) -> str | None:
        try:
            return str(resolve_path(input.file_path, ctx))
        except ToolFailure:
            return input.file_path

    async def run(self, input: WriteInput, ctx: ToolContext) -> ToolResult:
        path = resolve_path(input.file_path, ctx)
        if path.is_dir():
            raise ToolFailure(f"{input.file_path} is a directory; give a file path")
        current = await load_bytes(path, ctx)
        check_fresh(path, current, ctx.reads)
        check_writable(path, display_path(path, ctx))
        before = decode_text(current) if current is not None else None
        data = encode_text(input.content, before)
        if current == data:
            return ToolResult(
                output=f"{display_path(path, ctx)} unchanged (same content)", files_touched=[str(path)]
            )
        await store_bytes(path, data, ctx)
        label = display_path(path, ctx)
        new_text = decode_text(data).text
        change = file_change(path, label, before.text if before else None, new_text)
        verb = "Updated" if before else "Created"
        lines = new_text.count("\n") + (0 if new_text.endswith("\n") or not new_text else 1)
        return ToolResult(
            output=f"{verb} {label} ({lines} lines)", files_touched=[str(path)], changes=[change]
        )
