"""`glob`: files matching a glob pattern, newest first.

Never rg's `--glob`: it overrides the ignore rules and walks into `.git/`. A file-name pattern
becomes an rg file type; any other is matched here (tools/_globmatch.py) on `rg --files`.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import Field

from agent.errors import ToolFailure
from agent.nofollow import open_nofollow
from agent.tool import PermissionRequest, Tool, ToolContext, ToolInput, ToolResult
from tools._globmatch import compile_glob, name_glob
from tools._paths import display_path, path_permissions, printable, resolve_path, valid_text
from tools._ripgrep import rg_error, search
from tools.schemas import SCHEMA_FILE

MAX_FILES = 100
_STAT_THREADS = 4


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
    """Sort by modification time, newest first (ties by path), stat'ing only the matches (on a few
    threads: a stat is a syscall, and `rg --sortr modified` would stat every file on one thread).
    Each stat is relative to the root's descriptor and follows no link."""
    fd = open_nofollow(root, os.O_RDONLY | os.O_DIRECTORY)

    def mtimes(names: list[str]) -> list[tuple[float, str]]:
        out = []
        for name in names:
            try:
                out.append((-os.stat(name, dir_fd=fd, follow_symlinks=False).st_mtime, name))
            except OSError:  # gone since the listing
                out.append((0.0, name))
        return out

    try:
        with ThreadPoolExecutor(_STAT_THREADS) as pool:
            parts = pool.map(mtimes, [files[i::_STAT_THREADS] for i in range(_STAT_THREADS)])
            keyed = [pair for part in parts for pair in part]
    finally:
        os.close(fd)
    return [name for _, name in sorted(keyed)]


async def list_matches(root: Path, pattern: str, ctx: ToolContext) -> tuple[list[str], str]:
    """The files under `root` matching `pattern`, newest first, ignore rules respected; and a note
    about the listing (empty, or what the model should know)."""
    name = name_glob(pattern)
    if name is not None:  # rg filters by file type (after the ignore rules) and sorts: one process
        args = ["--files", "--sortr", "modified", "--type-add", f"userglob:{name}", "--type", "userglob"]
        result = await search(args, root=root, cwd=root, ctx=ctx)
    else:
        matcher = compile_glob(pattern)
        result = await search(["--files"], root=root, cwd=root, ctx=ctx)  # parallel walk: no stat of each
    error = rg_error(result, pattern)
    if error is not None:
        raise error
    listed = [ln for ln in result.stdout.split("\n") if ln]
    if name is not None:
        return listed, result.note
    matching = [f for f in listed if matcher.matches(f)]
    try:
        return await asyncio.to_thread(newest_first, root, matching), result.note
    except OSError as exc:
        raise ToolFailure(f"{printable(str(root))}: cannot list: {exc.strerror}") from exc


class GlobTool(Tool[GlobInput]):
    name = "glob"
    description = "Find files by glob pattern, newest first. Respects .gitignore."
    input_model = GlobInput
    kind = "search"
    stored_schemas = SCHEMA_FILE

    def title(self, input: GlobInput) -> str:
        return f"glob {input.pattern}" + (f" in {input.path}" if input.path else "")

    def permission_requests(self, input: GlobInput, ctx: ToolContext) -> list[PermissionRequest]:
        base, _ = split_pattern(input.path or ".", valid_text(input.pattern, "pattern"))  # run's folder
        return path_permissions("glob", [base], ctx)

    async def run(self, input: GlobInput, ctx: ToolContext) -> ToolResult:
        base, pattern = split_pattern(input.path or ".", valid_text(input.pattern, "pattern"))
        root = resolve_path(base, ctx, read_only=True)
        if not root.is_dir():
            raise ToolFailure(f"{printable(base)}: not a directory")
        files, note = await list_matches(root, pattern, ctx)
        prefix = display_path(root, ctx)
        shown = [printable(f if prefix == "." else f"{prefix}/{f}") for f in files[:MAX_FILES]]
        if not shown:
            return ToolResult(
                output=f"No files match {printable(input.pattern)!r} in {prefix}"
                + (f"\n{note}" if note else "")
            )
        more = len(files) - len(shown)
        tail = f"\n[{more} more files not shown; narrow the pattern or the path]" if more > 0 else ""
        return ToolResult(output="\n".join(shown) + tail + (f"\n{note}" if note else ""))
