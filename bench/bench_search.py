"""grep and glob through our tools against the same `rg` command run directly, on a 50k+ file tree.

Run: `python -m bench.bench_search [--copies N] [--tree DIR]`. The tree is site-packages linked
(hard links, else copies) N times into a temp folder. Prints one JSON line per case:
value = our median seconds, reference = rg's median seconds, ratio = value / reference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from agent.tool import ToolContext
from bench._figures import emit
from tools._rg_binary import find_rg
from tools._ripgrep import BASE_ARGS
from tools.glob import GlobInput, GlobTool
from tools.grep import GrepInput, GrepTool, rg_args

ROUNDS = 7


def build_tree(dest: Path, copies: int) -> int:
    """Link site-packages into dest `copies` times; returns the file count."""
    source = Path(sysconfig.get_paths()["purelib"])
    for n in range(copies):
        target = dest / f"copy{n}"
        if not target.exists():
            try:
                shutil.copytree(source, target, copy_function=os.link, symlinks=True)
            except OSError:
                shutil.copytree(source, target, symlinks=True)
    return sum(len(files) for _, _, files in os.walk(dest))


def _time_rg(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


async def _time_tool(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def _bench(tree: Path) -> None:
    ctx = ToolContext(workspace=tree, data_dir=tree.parent / "bench-data")
    rg = find_rg()
    greps = {
        "grep_files": GrepInput(pattern="def main"),
        "grep_content": GrepInput(pattern="import asyncio$", output_mode="content"),
        "grep_count_py": GrepInput(pattern="TODO", output_mode="count", type="py"),
        "grep_glob_py": GrepInput(pattern="def main", glob="*.py"),  # + the ignore-respecting listing
        "grep_glob_content": GrepInput(pattern="import asyncio$", glob="**/*.py", output_mode="content"),
        "grep_glob_path": GrepInput(pattern="def main", glob="copy*/**/*.py"),  # --glob, output filtered
    }
    globs = {
        "glob_py": GlobInput(pattern="**/*.py"),
        "glob_json": GlobInput(pattern="*.json"),
        "glob_all": GlobInput(pattern="**/*"),
        "glob_path": GlobInput(pattern="copy*/**/test_*.py"),
    }
    for name, grep_input in greps.items():
        argv = [rg, *BASE_ARGS, *rg_args(grep_input), "--", "."]
        await _report(name, lambda i=grep_input: GrepTool().run(i, ctx), argv, tree)
    if shutil.which("bwrap"):  # what a run with bubblewrap does: rg inside the sandbox
        from agent.sandbox.bwrap import BwrapSandbox

        boxed = ToolContext(workspace=tree, data_dir=tree.parent / "bench-data", sandbox=BwrapSandbox(tree))
        inp = greps["grep_files"]
        argv = [rg, *BASE_ARGS, *rg_args(inp), "--", "."]
        await _report("grep_files_sandboxed", lambda: GrepTool().run(inp, boxed), argv, tree)
    for name, glob_input in globs.items():
        argv = [rg, *BASE_ARGS, "--files", "--sortr", "modified", "--glob", glob_input.pattern]
        await _report(name, lambda i=glob_input: GlobTool().run(i, ctx), argv, tree)


async def _report(name: str, tool_call: Callable[[], Awaitable[object]], argv: list[str], tree: Path) -> None:
    _time_rg(argv, tree)  # warm the page cache for both
    ours, ref = [], []
    for _ in range(ROUNDS):
        ours.append(await _time_tool(tool_call))
        ref.append(_time_rg(argv, tree))
    value, reference = statistics.median(ours), statistics.median(ref)
    emit(f"search_{name}", value, reference, unit="s", reference_name="the same rg command", aim="<= 1.15")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--tree", type=Path, default=None, help="an existing tree to search instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tree = args.tree.resolve() if args.tree else Path(tmp).resolve() / "tree"
        if args.tree is None:
            tree.mkdir()
            count = build_tree(tree, args.copies)
            emit("search_tree_files", count, None, unit="files")
        asyncio.run(_bench(tree))


if __name__ == "__main__":
    main()
