"""Patch corpus success rate: our patch tool beside `git apply` and `patch -p1 --fuzz` on the same diffs.

Run: `python -m bench.bench_patch`. Prints one JSON line per reference.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from agent.errors import ToolFailure
from bench._figures import emit
from bench._patch_corpus import CorpusCase, copy_tree, corpus, same_tree
from tools.base import ToolContext
from tools.patch import PatchInput, PatchTool
from tools.read import ReadInput, ReadTool


async def _ours(case: CorpusCase, ws: Path) -> bool:
    ctx = ToolContext(workspace=ws, data_dir=ws.parent / "data")
    for path in ws.rglob("*"):
        if path.is_file():
            await ReadTool().run(ReadInput(file_path=str(path)), ctx)
    try:
        await PatchTool().run(PatchInput(patch_text=case.diff), ctx)
    except ToolFailure:
        return False
    return same_tree(ws, case.new)


def _external(argv: list[str]) -> Callable[[CorpusCase, Path], bool]:
    def run(case: CorpusCase, ws: Path) -> bool:
        done = subprocess.run(argv, cwd=ws, input=case.diff, capture_output=True, text=True)
        return done.returncode == 0 and same_tree(ws, case.new)
    return run


def _rate(cases: list[CorpusCase], apply: Callable[[CorpusCase, Path], bool]) -> tuple[float, list[str]]:
    failed: list[str] = []
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp).resolve() / "ws"
            copy_tree(case.old, ws)
            if not apply(case, ws):
                failed.append(case.name)
    return 1 - len(failed) / len(cases), failed


def main() -> None:
    cases = corpus()
    ours, ours_failed = _rate(cases, lambda c, ws: asyncio.run(_ours(c, ws)))
    references = {
        "git apply": ["git", "apply", "--unidiff-zero", "-"],
        "patch -p1 --fuzz=2": ["patch", "-p1", "--fuzz=2", "--batch", "--forward", "--no-backup-if-mismatch"],
    }
    for label, argv in references.items():
        rate, failed = _rate(cases, _external(argv))
        failures = f"ours failed {ours_failed or 'none'}; {label} failed {failed or 'none'}"
        emit(f"patch_success_rate_vs_{label.split()[0]}", ours, rate, unit="share",
             reference_name=f"{label} on the same {len(cases)} diffs", aim=">= 1", note=failures, digits=3)


if __name__ == "__main__":
    main()
