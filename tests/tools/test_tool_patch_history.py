"""Real release history: the diff between two releases applies through patch, also when damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.tool import ToolContext
from bench._patch_corpus import CorpusCase, copy_tree, corpus, same_tree
from tools.patch import PatchInput, PatchTool
from tools.read import ReadInput, ReadTool

CASES = corpus()


def test_corpus_is_real() -> None:
    assert len(CASES) >= 20
    assert all("@@ -" in c.diff for c in CASES if c.unified)
    codex = [c for c in CASES if not c.unified]
    assert len(codex) >= 8 and all("*** Update File: " in c.diff for c in codex)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_history_diff_applies(case: CorpusCase, tmp_path: Path) -> None:
    ws = (tmp_path / "ws").resolve()
    copy_tree(case.old, ws)
    ctx = ToolContext(workspace=ws, data_dir=tmp_path / "data")
    for path in ws.rglob("*.py.txt"):
        await ReadTool().run(ReadInput(file_path=str(path)), ctx)
    assert not same_tree(ws, case.new)
    await PatchTool().run(PatchInput(patch_text=case.diff), ctx)
    assert same_tree(ws, case.new)
