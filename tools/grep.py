"""`grep`: ripgrep over the workspace, with its output shaped and capped for the model."""

import asyncio
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.errors import ToolFailure
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from agent.tool_output import cap_output
from tools import _fs
from tools._globmatch import name_glob
from tools._paths import display_path, path_permissions, printable, resolve_path, valid_text
from tools._ripgrep import RgResult, rg_error, search
from tools.schemas import SCHEMA_FILE

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


def glob_as_type(input: GrepInput) -> str | None:
    """The glob as a file-name pattern for an rg file type, when it is one (and `type` is unset).

    An rg `--glob` is an override, and overrides beat ignore rules (`--glob '*'` searches `.git/`
    and gitignored folders); a file type applies after them. Other globs need `--glob` and
    `unignored_only`.
    """
    if not input.glob or input.type:
        return None
    return name_glob(input.glob)


def rg_args(input: GrepInput) -> list[str]:
    """The rg arguments for this call, but the search root (BASE_ARGS come first, the root last:
    `tools._ripgrep.search` adds them)."""
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
    name_glob = glob_as_type(input)
    if name_glob is not None:  # a file type filters after the ignore rules: nothing to undo
        args += ["--type-add", f"userglob:{name_glob}", "--type", "userglob"]
    elif input.glob:  # `!.git` again after it: the last matching glob wins
        args += ["--glob", input.glob, "--glob", "!.git"]
        if input.output_mode == "content":  # a NUL ends the path, so filtering it is exact
            args += ["--field-match-separator", "\\x00:", "--field-context-separator", "\\x00-"]
    if input.type:
        args += ["--type", input.type]
    return [*args, "--regexp", input.pattern]


def unignored_only(lines: list[str], listed: set[str], mode: str) -> list[str]:
    """Drop the output lines of files outside `listed` (the ignore-respecting `rg --files`).

    A `--glob` is an rg override and overrides beat ignore rules: `--glob '*'` would search
    gitignored folders. In content mode the path ends at a NUL (see rg_args), put back here.
    """
    kept: list[str] = []
    for line in lines:
        if mode == "files_with_matches":
            keep, shown = line in listed, line
        elif mode == "count":
            keep, shown = line.rpartition(":")[0] in listed, line
        elif line == "--":
            keep, shown = bool(kept) and kept[-1] != "--", line
        else:
            path, _, rest = line.partition("\0")
            sep = rest[:1]
            keep, shown = path in listed, path + sep + rest[1:].replace("\0" + sep, sep, 1)
        if keep:
            kept.append(shown)
    return kept[:-1] if kept and kept[-1] == "--" else kept


class GrepTool(Tool[GrepInput]):
    name = "grep"
    description = (
        "Search file contents with ripgrep. Respects .gitignore. output_mode: files_with_matches "
        "(default), content (matching lines), count."
    )
    input_model = GrepInput
    kind = "search"
    stored_schemas = SCHEMA_FILE

    def title(self, input: GrepInput) -> str:
        return f"grep {input.pattern}" + (f" in {input.path}" if input.path else "")

    def permission_requests(self, input: GrepInput, ctx: ToolContext) -> list[PermissionRequest]:
        _valid_input(input)
        return path_permissions("grep", [input.path or "."], ctx)

    async def run(self, input: GrepInput, ctx: ToolContext) -> ToolResult:
        _valid_input(input)
        root = resolve_path(input.path or ".", ctx, read_only=True)
        target = display_path(root, ctx)
        _searchable(root, target)
        workspace = Path(os.path.realpath(ctx.workspace))
        cwd = workspace if root.is_relative_to(workspace) else (root if root.is_dir() else root.parent)
        search = _search(rg_args(input), root, cwd, ctx)
        if input.glob and glob_as_type(input) is None:
            result, listed = await asyncio.gather(search, _search(["--files"], root, cwd, ctx))
        else:
            result, listed = await search, None
        error = rg_error(result, input.pattern)
        if error is not None:
            raise error
        raw = [ln for ln in result.stdout.split("\n") if ln]
        if listed is not None:
            raw = unignored_only(raw, set(listed.stdout.split("\n")), input.output_mode)
        prefix = "" if cwd == workspace else f"{cwd}/"
        lines = [printable(prefix + ln if ln != "--" else ln) for ln in raw]
        if not lines:
            return ToolResult(output=f"No matches for {input.pattern!r} in {target}" + _note(result))
        return _shaped(lines, input, ctx, result)


def _valid_input(input: GrepInput) -> None:
    """Refuse what no argument can hold (a NUL byte), naming the field."""
    for what, value in (("pattern", input.pattern), ("glob", input.glob), ("type", input.type)):
        valid_text(value or "", what)


def _searchable(root: Path, shown: str) -> None:
    """A file or a folder: rg would block reading a FIFO named as its root (the walk skips them)."""
    opened = _fs.open_for_reading(root)
    if opened is None:
        raise ToolFailure(f"{shown}: no such file or folder")
    opened.close()


def _search(args: list[str], root: Path, cwd: Path, ctx: ToolContext) -> Awaitable[RgResult]:
    return search(args, root=root, cwd=cwd, ctx=ctx)


def _note(result: RgResult) -> str:
    return f"\n{result.note}" if result.note else ""


def _shaped(lines: list[str], input: GrepInput, ctx: ToolContext, result: RgResult) -> ToolResult:
    """Sorted (but content), limited to head_limit, totalled (count), capped for the model."""
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
    capped = cap_output(body + _note(result), ctx.limits, ctx.data_dir, label="grep")
    return ToolResult(
        output=capped.text, full_output_path=str(capped.saved_path) if capped.saved_path else None
    )
