"""`grep`: ripgrep over the workspace, with its output shaped and capped for the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools._paths import display_path, path_permissions, resolve_path
from tools._ripgrep import rg_error, run_rg
from tools._truncate import cap_output
from tools.base import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult

DEFAULT_HEAD_LIMIT = 250
"""Entries shown for files_with_matches and count when head_limit is not given."""


class GrepInput(ToolInput):
    pattern: str = Field(description="Regex (ripgrep syntax)")
    path: str | None = Field(None, description="File or folder to search (default: workspace)")
    glob: str | None = Field(None, description='Filter files, e.g. "*.py" or "*.{ts,tsx}"')
    type: str | None = Field(None, description="rg file type, e.g. py, js, rust")
    output_mode: Literal["files_with_matches", "content", "count"] = "files_with_matches"
    i: bool = Field(False, alias="-i", description="Case insensitive")
    n: bool = Field(True, alias="-n", description="Line numbers (content mode)")
    after: int | None = Field(None, alias="-A", ge=0, description="Lines after each match")
    before: int | None = Field(None, alias="-B", ge=0, description="Lines before each match")
    context: int | None = Field(None, alias="-C", ge=0, description="Lines around each match")
    head_limit: int | None = Field(None, ge=1, description="Show only the first N lines/entries")
    multiline: bool = Field(False, description="Let patterns span lines (. matches newline)")


def rg_args(input: GrepInput, target: str) -> list[str]:
    """The rg arguments for this call (BASE_ARGS come first, added by run_rg)."""
    args: list[str] = []
    if input.output_mode == "files_with_matches":
        args.append("--files-with-matches")
    elif input.output_mode == "count":
        args += ["--count", "--with-filename"]
    else:
        args += ["--with-filename", "--no-heading", "--max-columns", "2000", "--max-columns-preview"]
        args.append("--line-number" if input.n else "--no-line-number")
        for flag, value in (("-A", input.after), ("-B", input.before), ("-C", input.context)):
            if value is not None:
                args += [flag, str(value)]
    if input.i:
        args.append("--ignore-case")
    if input.multiline:
        args += ["--multiline", "--multiline-dotall"]
    if input.glob:
        args += ["--glob", input.glob]
    if input.type:
        args += ["--type", input.type]
    return [*args, "--regexp", input.pattern, "--", target]


class GrepTool(Tool[GrepInput]):
    name = "grep"
    description = (
        "Search file contents with ripgrep. Respects .gitignore. output_mode: files_with_matches "
        "(default), content (matching lines), count."
    )
    input_model = GrepInput
    kind = "search"

    def title(self, input: GrepInput) -> str:
        return f"grep {input.pattern}" + (f" in {input.path}" if input.path else "")

    def permission_requests(self, input: GrepInput, ctx: ToolContext) -> list[PermissionRequest]:
        return path_permissions("grep", [input.path or "."], ctx)

    async def run(self, input: GrepInput, ctx: ToolContext) -> ToolResult:
        target = display_path(resolve_path(input.path or ".", ctx), ctx)
        result = await run_rg(rg_args(input, target), ctx.workspace, ctx.cancel)
        error = rg_error(result, input.pattern)
        if error is not None:
            raise error
        lines = [ln.removeprefix("./") for ln in result.stdout.split("\n") if ln]
        if not lines:
            return ToolResult(output=f"No matches for {input.pattern!r} in {target}")
        if input.output_mode != "content":
            lines.sort()
        limit = input.head_limit or (None if input.output_mode == "content" else DEFAULT_HEAD_LIMIT)
        shown = lines[:limit] if limit else lines
        body = "\n".join(shown)
        if input.output_mode == "count":
            total = sum(int(ln.rsplit(":", 1)[1]) for ln in lines if ln.rsplit(":", 1)[-1].isdigit())
            body += f"\n[{total} matches in {len(lines)} files]"
        more = len(lines) - len(shown)
        unit = "lines" if input.output_mode == "content" else "files"
        if more > 0:
            body += f"\n[{more} more {unit} not shown; use head_limit, path, glob or a narrower pattern]"
        capped = cap_output(body, ctx.limits, ctx.data_dir, label="grep")
        return ToolResult(output=capped.text,
                          full_output_path=str(capped.saved_path) if capped.saved_path else None)
