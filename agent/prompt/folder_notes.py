"""The read tool with a subfolder's instructions appended to its result (see agent.prompt.instructions).

A wrapper rather than a change to `tools/read.py`: the tool stays unaware of instruction files,
and the runtime decides per session whether notes are added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.prompt.instructions import FolderInstructions
from agent.tool import PermissionRequest, Tool, ToolContext, ToolResult


class FolderNotesReadTool(Tool[Any]):
    """Delegates everything to `inner` and appends `notes.for_read(file_path)` to a good result."""

    def __init__(self, inner: Tool[Any], notes: FolderInstructions) -> None:
        self._inner = inner
        self._notes = notes
        self.name = inner.name  # type: ignore[misc]
        self.description = inner.description  # type: ignore[misc]
        self.input_model = inner.input_model  # type: ignore[misc]
        self.kind = inner.kind  # type: ignore[misc]
        self.mutates = inner.mutates  # type: ignore[misc]

    async def run(self, input: Any, ctx: ToolContext) -> ToolResult:
        result = await self._inner.run(input, ctx)
        file_path = getattr(input, "file_path", None)
        if result.is_error or not file_path:
            return result
        note = self._notes.for_read(Path(file_path))
        if note is None:
            return result
        return result.model_copy(update={"output": f"{result.output}\n\n{note}"})

    def permission_requests(self, input: Any, ctx: ToolContext) -> list[PermissionRequest]:
        return self._inner.permission_requests(input, ctx)

    def title(self, input: Any) -> str:
        return self._inner.title(input)

    def locations(self, input: Any, ctx: ToolContext) -> list[str]:
        return self._inner.locations(input, ctx)

    def conflict_key(self, input: Any, ctx: ToolContext) -> str | None:
        return self._inner.conflict_key(input, ctx)

    def schema(self) -> dict[str, Any]:  # type: ignore[override]
        return self._inner.schema()


def with_folder_notes(tools: list[Tool[Any]], notes: FolderInstructions) -> list[Tool[Any]]:
    """`tools` with the one named `read` wrapped; the others unchanged."""
    return [FolderNotesReadTool(t, notes) if t.name == "read" else t for t in tools]
