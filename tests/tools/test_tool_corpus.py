"""The edit and patch corpus (tests/tools/corpus): every case ends as it says, files and error alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench._tool_corpus import ToolCase, run_ours, tool_cases

CASES = tool_cases()
CATEGORIES = {
    "trailing_blank",
    "end_of_file",
    "empty_hunks",
    "pure_addition",
    "line_endings",
    "read_only",
    "unicode",
    "tolerances",
    "misses",
}


def test_every_category_has_cases() -> None:
    counts = {c: sum(1 for case in CASES if case.category == c) for c in CATEGORIES}
    assert all(n >= 3 for n in counts.values()), counts
    assert {case.category for case in CASES} == CATEGORIES
    assert all(case.source for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.category}/{c.name}")
async def test_corpus_case(case: ToolCase, tmp_path: Path) -> None:
    wrong, output = await run_ours(case, tmp_path / "ws")
    assert wrong is None, f"{case.source}: {wrong}\n--- tool output ---\n{output}"
