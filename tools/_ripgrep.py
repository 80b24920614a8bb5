"""Finding and running ripgrep, which grep and glob both sit on, where the run's policy holds.

With a sandbox, rg runs inside it (`Sandbox.run_argv`): the same mounts as bash, so what rg can
see is what the policy lets a tool see, and a folder swapped for a symlink mid-walk leads only
into what the mounts show. Without one (`sandbox: {kind: none}`, or no bubblewrap), rg runs on the
host with every path below the search root that the policy does not let the tools read excluded.
In both, the root itself was checked before (`tools._paths.resolve_path`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ToolFailure
from agent.sandbox.policy import FsPolicy
from agent.tool import ToolContext
from tools._rg_binary import find_rg

BASE_ARGS: tuple[str, ...] = (
    "--no-config",
    "--hidden",
    "--no-require-git",
    "--glob",
    "!.git",
    "--color",
    "never",
)
"""Every search: .gitignore respected (also outside a git repo), hidden files in, `.git/` out."""


SEARCH_TIMEOUT_S = 120.0
"""How long one rg may run in the sandbox before it is killed."""
_DROPPED = re.compile(r"\n\[\.\.\. \d+ bytes dropped \.\.\.\]\n")
"""The sandbox's marker where it dropped the middle of a huge output."""


@dataclass(frozen=True, eq=False, repr=False)
class RgResult:
    """What one ripgrep run gave."""

    returncode: int
    stdout: str
    """Decoded with surrogate escapes on the host (names that are not UTF-8 stay usable), with
    replacement characters from the sandbox."""
    stderr: str
    note: str = ""
    """Something the model should know about the output (its middle was dropped)."""


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]{}!])", r"\\\1", text)


def policy_exclusions(policy: FsPolicy, root: Path, cwd: Path) -> list[str]:
    """`--glob !/PATH` (relative to `cwd`, which holds `root`) for every path below `root` that the
    policy does not let the tools read. A readable path inside an excluded one is excluded with it
    (an rg glob cannot re-include without whitelisting the rest): search it directly."""
    args: list[str] = []
    for rule in policy.below(root):
        if rule.level in ("hidden", "private") and rule.path.is_relative_to(cwd):
            args += ["--glob", "!/" + _glob_escape(rule.path.relative_to(cwd).as_posix())]
    return args


def _sandboxed(ctx: ToolContext) -> bool:
    return ctx.sandbox is not None and ctx.sandbox.name != "none"


async def search(args: list[str], *, root: Path, cwd: Path, ctx: ToolContext) -> RgResult:
    """rg with BASE_ARGS, the policy's exclusions and `args`, searching `root` from `cwd` (which
    must hold it); output paths are relative to `cwd`, without a leading `./`.

    Raises:
        ToolFailure: cancelled, or timed out in the sandbox.
    """
    rel = root.relative_to(cwd).as_posix()
    target = "." if rel == "." else f"./{rel}"
    assert ctx.policy is not None  # ToolContext always builds one
    full = ["--no-messages", *policy_exclusions(ctx.policy, root, cwd), *args, "--", target]
    result = await (_in_sandbox(full, cwd, ctx) if _sandboxed(ctx) else run_rg(full, cwd, ctx.cancel))
    lines = [ln.removeprefix("./") for ln in result.stdout.split("\n")]
    return RgResult(result.returncode, "\n".join(lines), result.stderr, result.note)


async def _in_sandbox(args: list[str], cwd: Path, ctx: ToolContext) -> RgResult:
    """rg through `Sandbox.run_argv`: stdout and stderr come merged, so a fatal error (which rg
    prints as `rg: ...` before any result; per-file errors are silenced by --no-messages) is told
    from results by that prefix (results start with `./`)."""
    assert ctx.sandbox is not None
    done = await ctx.sandbox.run_argv(
        [find_rg(), *BASE_ARGS, *args], cwd=cwd, timeout_s=SEARCH_TIMEOUT_S, cancel=ctx.cancel
    )
    if done.cancelled:
        raise ToolFailure("search cancelled")
    if done.timed_out:
        raise ToolFailure(f"search timed out after {SEARCH_TIMEOUT_S:g} s; narrow the path or the pattern")
    code = done.exit_code or 0
    if code not in (0, 1, 2):  # rg's own codes; 126 or 127: it could not start in the sandbox
        raise ToolFailure(f"ripgrep could not run in the sandbox (exit {code}): {done.output.strip()[:500]}")
    if code == 2 and done.output.startswith("rg: "):
        return RgResult(code, "", done.output)
    dropped = _DROPPED.search(done.output)
    if dropped is None:
        return RgResult(code, done.output, "")
    head = done.output[: dropped.start()].rpartition("\n")[0]  # the two lines cut in the middle go
    tail = done.output[dropped.end() :].partition("\n")[2]
    return RgResult(
        code, f"{head}\n{tail}", "", note="[the middle of a very large output was dropped; narrow the search]"
    )


async def run_rg(args: list[str], cwd: Path, cancel: asyncio.Event) -> RgResult:
    """Run rg on the host with BASE_ARGS plus `args` in `cwd`; a set `cancel` kills it."""
    proc = await asyncio.create_subprocess_exec(
        find_rg(),
        *BASE_ARGS,
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
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
    return RgResult(
        proc.returncode or 0, out.decode("utf-8", "surrogateescape"), err.decode("utf-8", "replace")
    )


async def _kill(proc: asyncio.subprocess.Process, work: asyncio.Future[tuple[bytes, bytes]]) -> None:
    if proc.returncode is None:
        proc.kill()
    await asyncio.shield(proc.wait())
    work.cancel()


def rg_error(result: RgResult, pattern: str) -> ToolFailure | None:
    """The failure to report when rg failed outright (not just unreadable files along the way)."""
    if result.returncode != 2 or result.stdout.strip() or not result.stderr.strip():
        return None
    reason = result.stderr.strip()
    if "regex" in reason.lower():
        return ToolFailure(f"invalid regex {pattern!r}: {reason}")
    return ToolFailure(f"ripgrep failed: {reason}")
