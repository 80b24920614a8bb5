"""tools/_nearest and tools/_canonical: the hint of a miss, its time bound, and NFC matching."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agent.errors import EditMatchError
from agent.tool import ToolContext
from tools._canonical import canonical_spans, in_form_of
from tools._nearest import explain_difference, nearest_window
from tools.edit import EditInput, EditTool


def test_nearest_window_finds_the_lines_and_explains_the_difference() -> None:
    lines = [f"value_{i} = compute({i})" for i in range(500)]
    near = nearest_window(lines, ["value_250 = compte(250)", "value_251 = compute(251)"])
    assert near is not None and near.start == 250
    text = explain_difference(near, ["value_250 = compte(250)", "value_251 = compute(251)"], "old_string")
    assert "line 251: the file has 'u' where old_string has nothing" in text


def test_the_search_stops_at_its_budget() -> None:
    """With no time at all it looks at the first slice only; with its budget it finds the lines."""
    lines = ["filler line"] * 20_000 + ["the line we want, nearly"]
    early = nearest_window(lines, ["the line we want, exactly"], budget_s=0.0)
    assert early is None or early.start < 20_000
    near = nearest_window(lines, ["the line we want, exactly"])
    assert near is not None and near.start == 20_000


def test_nothing_alike_gives_no_window() -> None:
    assert nearest_window(["aaaa", "bbbb"], ["zzzzqqqq"]) is None
    assert nearest_window([], ["x"]) is None
    assert nearest_window(["x"], ["", "  "]) is None


def test_code_points_are_shown_where_characters_look_alike() -> None:
    near = nearest_window(["caf\u00e9 = 1"], ["cafe\u0301 = 1"])
    assert near is not None
    text = explain_difference(near, ["cafe\u0301 = 1"], "old_string")
    assert "U+00E9 LATIN SMALL LETTER E WITH ACUTE" in text and "U+0301 COMBINING ACUTE ACCENT" in text


def test_canonical_spans_map_back_to_the_original_text() -> None:
    text = "Zoe\u0308 met Rene\u0301e.\nbye\n"
    [(start, stop)] = canonical_spans(text, "Ren\u00e9e")
    assert text[start:stop] == "Rene\u0301e"
    assert canonical_spans(text, "e\u0308") == [(2, 4)]  # ë written either way
    # e + acute + cedilla is NFC U+0229 + acute: the acute alone cannot be cut out of the original
    assert canonical_spans("e\u0301\u0327\n", "\u0301") == []
    assert canonical_spans("aaa", "aa") == [(0, 2), (1, 3)]  # overlapping places both count


def test_replacement_takes_the_form_of_the_file() -> None:
    assert in_form_of("th\u00e9", "cafe\u0301") == "the\u0301"
    assert in_form_of("the\u0301", "caf\u00e9") == "th\u00e9"


async def test_a_miss_is_worked_out_off_the_event_loop(
    ws: Path, ctx: ToolContext, read_file: Callable[[str], Awaitable[str]]
) -> None:
    """While edit looks for old_string (and the nearest lines), other tasks of the loop run."""
    (ws / "big.py").write_text("".join(f"line_{i} = {i}\n" for i in range(20_000)))
    await read_file("big.py")
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)
    before = ticks
    with pytest.raises(EditMatchError, match="line_10000 = 10000"):
        await EditTool().run(
            EditInput(file_path="big.py", old_string="line_10000 = 1000O", new_string="x"), ctx
        )
    during = ticks - before
    beat.cancel()
    assert during > 1
