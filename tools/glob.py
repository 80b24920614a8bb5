"""`glob`: files matching a glob pattern, newest first.

rg lists the files (ignore rules respected, `.git/` never) and the pattern is applied here
(tools/_globmatch.py): an rg `--glob` would override the ignore rules and walk into `.git/`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from agent.errors import ToolFailure
from tools._globmatch import compile_glob
from tools._paths import display_path, path_permissions, resolve_path
from tools._ripgrep import rg_error, run_rg
from tools.base import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult

MAX_FILES = 100


class GlobInput(ToolInput):
    pattern: str = Field(description='Glob, e.g. "**/*.py" or "src/**/test_*.ts"')
    path: str | None = Field(None, description="Folder to search (default: workspace)")


def split_pattern(path: str, pattern: str) -> tuple[str, str]:
    """An absolute pattern (`/repo/src/**/*.py`) becomes a folder and a pattern relative to it,
    since ripgrep matches globs against paths relative to where it searches."""
    if not pattern.startswith("/"):
        return path, pattern
    parts = pattern.split("/")
    fixed = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[{")), len(parts) - 1)
    return "/".join(parts[:fixed]) or "/", "/".join(parts[fixed:])


def newest_first(root: Path, files: list[str]) -> list[str]:
    """Sort by modification time, newest first (ties by path); only the matches are stat'ed,
    where `rg --sortr modified` would stat every file of the tree and walk on one thread."""

    def mtime(name: str) -> float:
        try:
            return os.stat(root / name).st_mtime
        except OSError:  # gone since the listing
            return 0.0

    return [name for _, name in sorted((-mtime(f), f) for f in files)]


class GlobTool(Tool[GlobInput]):
    name = "glob"
    description = "Find files by glob pattern, newest first. Respects .gitignore."
    input_model = GlobInput
    kind = "search"

    def title(self, input: GlobInput) -> str:
        return f"glob {input.pattern}" + (f" in {input.path}" if input.path else "")

    def permission_requests(self, input: GlobInput, ctx: ToolContext) -> list[PermissionRequest]:
        base, _ = split_pattern(input.path or ".", input.pattern)  # the folder `run` searches
        return path_permissions("glob", [base], ctx)

    async def run(self, input: GlobInput, ctx: ToolContext) -> ToolResult:
        base, pattern = split_pattern(input.path or ".", input.pattern)
        root = resolve_path(base, ctx, read_only=True)
        if not root.is_dir():
            raise ToolFailure(f"{base}: not a directory")
        matcher = compile_glob(pattern)
        result = await run_rg(["--files"], root, ctx.cancel)  # parallel walk: no stat of every file
        error = rg_error(result, input.pattern)
        if error is not None:
            raise error
        files = newest_first(root, [ln for ln in result.stdout.split("\n") if ln and matcher.matches(ln)])
        prefix = display_path(root, ctx)
        shown = [f if prefix == "." else f"{prefix}/{f}" for f in files[:MAX_FILES]]
        if not shown:
            return ToolResult(output=f"No files match {input.pattern!r} in {prefix}")
        more = len(files) - len(shown)
        tail = f"\n[{more} more files not shown; narrow the pattern or the path]" if more > 0 else ""
        return ToolResult(output="\n".join(shown) + tail)
