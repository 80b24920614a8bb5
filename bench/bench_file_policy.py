"""What the filesystem policy and race-free opening add to a read, a write and a grep.

Each figure times our path beside the file tools' path before the policy, on the same files, in
the same run, alternating round by round so background load hits both alike:

- read: resolve + policy check + open without following a link (openat2, and the O_NOFOLLOW walk)
  + read, against `realpath` + roots check + `Path.read_bytes` (resolve-then-open by name);
- write: resolve + policy check + temporary file, fsync, rename and folder fsync through the parent's
  descriptor, against `realpath` + roots check + the same steps by path (`tempfile.mkstemp`,
  `os.replace`);
- grep: the grep tool in the sandbox (what a run with bubblewrap does) and on the host (policy
  exclusions), against the same rg command run directly; and on the host against the tool's own
  rg runner with the same arguments (what the policy's checks and exclusions add).

Run: `python bench/bench_file_policy.py [ROUNDS]`. Prints JSON lines (see bench/_figures.py).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agent import nofollow
from agent.tool import ToolContext
from bench._figures import emit
from tools._files import read_regular, store_bytes
from tools._paths import is_inside, readable_roots, resolve_path
from tools._rg_binary import find_rg
from tools._ripgrep import BASE_ARGS, run_rg
from tools.grep import GrepInput, GrepTool, rg_args

REPEAT = 200
"""Calls per round for a read (a write is fsync-bound: a tenth of that)."""


def read_by_name(raw: str, ctx: ToolContext) -> bytes:
    """The reference read: resolve, check containment (the roots and the session's outputs, as
    `read` did), open again by name (before the policy)."""
    path = Path(os.path.realpath(ctx.workspace / raw))
    assert is_inside(path, readable_roots(ctx))
    return path.read_bytes()


def write_by_name(raw: str, data: bytes, ctx: ToolContext) -> None:
    """The reference write: resolve, check containment, temporary file and rename by path."""
    path = Path(os.path.realpath(ctx.workspace / raw))
    assert is_inside(path, ctx.roots)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    os.fsync(folder)
    os.close(folder)


def read_checked(raw: str, ctx: ToolContext) -> bytes:
    data = read_regular(resolve_path(raw, ctx, read_only=True))
    assert data is not None
    return data


async def _per_call_us(call: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        result = call()
        if inspect.isawaitable(result):
            await result
    return (time.perf_counter() - started) / repeat * 1e6


async def _compare(
    ours: Callable[[], object], reference: Callable[[], object], rounds: int, repeat: int
) -> tuple[float, float]:
    mine, ref = [], []
    for _ in range(rounds):
        mine.append(await _per_call_us(ours, repeat))
        ref.append(await _per_call_us(reference, repeat))
    return statistics.median(mine), statistics.median(ref)


async def bench_reads(ctx: ToolContext, rounds: int) -> None:
    reference = "resolve, roots check, open again by name (the file tools before the policy)"
    for size, raw in (("4KB", "src/pkg/small.py"), ("1MB", "src/pkg/big.txt")):
        for strategy in ("openat2", "walk"):
            nofollow.strategy = lambda s=strategy: s  # type: ignore[assignment, misc]
            value, ref = await _compare(
                lambda r=raw: read_checked(r, ctx), lambda r=raw: read_by_name(r, ctx), rounds, REPEAT
            )
            emit(
                f"read_{size}_{strategy}_us",
                value,
                ref,
                unit="µs",
                reference_name=reference,
                aim="<= 1.2",
                digits=1,
            )


async def bench_writes(ctx: ToolContext, rounds: int) -> None:
    nofollow.strategy = lambda: "openat2"  # type: ignore[assignment, misc]
    data = b"x = 1\n" * 500
    raw = "src/pkg/written.py"
    value, ref = await _compare(
        lambda: store_bytes(resolve_path(raw, ctx), data, ctx),
        lambda: write_by_name(raw, data, ctx),
        rounds,
        REPEAT // 10,
    )
    emit(
        "write_3KB_us",
        value,
        ref,
        unit="µs",
        aim="<= 1.2",
        digits=1,
        reference_name="resolve, roots check, mkstemp + fsync + os.replace by path (before the policy)",
    )
    assert (ctx.workspace / raw).read_bytes() == data


async def bench_grep(ws: Path, rounds: int) -> None:
    from agent.sandbox.bwrap import BwrapSandbox

    inp = GrepInput(pattern="def main")
    argv = [find_rg(), *BASE_ARGS, *rg_args(inp), "--", "."]
    cases = {"host": ToolContext(workspace=ws, data_dir=ws.parent / "out")}
    if shutil.which("bwrap"):
        cases["sandbox"] = ToolContext(workspace=ws, data_dir=ws.parent / "out", sandbox=BwrapSandbox(ws))
    files = _count(ws)
    for where, ctx in cases.items():
        value, ref = await _compare(
            lambda c=ctx: GrepTool().run(inp, c),  # type: ignore[misc]
            lambda: subprocess.run(argv, cwd=ws, capture_output=True, check=False),
            rounds,
            5,
        )
        emit(
            f"grep_{where}_ms",
            value / 1000,
            ref / 1000,
            unit="ms",
            aim="<= 1.2",
            digits=2,
            reference_name=f"the same rg command run directly ({files} files)",
        )
    host = cases["host"]
    value, ref = await _compare(
        lambda: GrepTool().run(inp, host),  # type: ignore[misc]
        lambda: run_rg([*rg_args(inp), "--", "."], ws, host.cancel),
        rounds,
        5,
    )
    emit(
        "grep_host_vs_runner_ms",
        value / 1000,
        ref / 1000,
        unit="ms",
        aim="<= 1.2",
        digits=2,
        reference_name=f"the tool's own rg runner, same arguments, no policy ({files} files)",
    )


def _count(ws: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(ws))


def build_workspace(root: Path) -> Path:
    """A small project: 300 source files three folders deep, one of 1 MB."""
    ws = root / "home" / "project"
    for i in range(300):
        sub = ws / "src" / f"pkg{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"mod{i}.py").write_text(f"def main():\n    return {i}\n" * 20)
    pkg = ws / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "small.py").write_text("x = 1\n" * 700)
    (pkg / "big.txt").write_text("a line of text\n" * 70_000)
    (pkg / "written.py").write_text("")
    return ws


async def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP", "/var/tmp")) as folder:
        ws = build_workspace(Path(folder).resolve())
        ctx = ToolContext(workspace=ws, data_dir=ws.parent / "out")
        await bench_reads(ctx, rounds)
        await bench_writes(ctx, rounds)
        await bench_grep(ws, rounds)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
