"""read streams: the window equals what reading the whole file gave, and big files cost little."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import StaleReadError, ToolFailure
from agent.tool import ReadLedger, ToolContext
from tools._files import MAX_EDIT_BYTES, decode_text
from tools._linescan import LineScanner, scan
from tools.edit import EditInput, EditTool
from tools.read import MAX_SCAN_BYTES, ReadInput, ReadTool, _line

Reader = Callable[[str], Awaitable[str]]


def whole_file_window(data: bytes, start: int, limit: int, width: int) -> tuple[list[str], int] | int:
    """The window as read computed it before it streamed: decode everything, split, slice.
    Returns (shown lines, lines after them), or the line count when `start` is past the end."""
    text = decode_text(data).text
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if start >= len(lines):
        return len(lines)
    shown = lines[start : start + limit]
    out = [
        f"{start + i + 1:>6}\t{ln[:width]}" + (f"... [line cut: {len(ln)} chars]" if len(ln) > width else "")
        for i, ln in enumerate(shown)
    ]
    return out, len(lines) - start - len(shown)


_PIECES = st.one_of(
    st.text(alphabet="ab xé€\t\x1b", max_size=12).map(str.encode),
    st.sampled_from([b"\n", b"\r\n", b"\r", b"\xe9", b"\xff", b"\xf0\x9f\x98\x80", b"\xe2\x82"]),
)


@settings(max_examples=400, deadline=None)
@given(
    body=st.lists(_PIECES, max_size=40).map(b"".join),
    bom=st.booleans(),
    start=st.integers(0, 12),
    limit=st.integers(1, 6),
    width=st.integers(1, 8),
    cuts=st.lists(st.integers(1, 400), max_size=6),
)
def test_the_streamed_window_is_the_whole_file_window(
    body: bytes, bom: bool, start: int, limit: int, width: int, cuts: list[int]
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + body
    if not decode_text(data).text:
        return  # the empty file has its own answer
    bounds = sorted({c for c in cuts if c < len(data)})
    chunks = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    found = scan(
        chunks,
        LineScanner(start, limit, width * 4 + 4, 1 << 20, hasher=ReadLedger.hasher()),
        stop_early=False,
        max_bytes=1 << 30,
    )
    expected = whole_file_window(data, start, limit, width)
    assert found.complete and found.digest == ReadLedger.digest(data)
    if isinstance(expected, int):
        assert not found.lines and found.total == expected
        return
    shown, rest = expected
    assert [_line(start + i + 1, line, found, width) for i, line in enumerate(found.lines)] == shown
    assert found.total - start - len(found.lines) == rest


async def test_a_2gb_sparse_file_answers_limit_5_with_little_memory(ws: Path, ctx: ToolContext) -> None:
    big = ws / "big.log"
    with big.open("wb") as handle:  # 1 MB of text, then a hole: no disk, little page cache
        handle.write(b"".join(f"line {i}\n".encode() for i in range(1, 100_000)))
        handle.truncate(2 * 1024**3)
    tracemalloc.start()
    try:
        out = (await ReadTool().run(ReadInput(file_path="big.log", offset=3, limit=5), ctx)).output
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.splitlines()[:5] == [f"{n:>6}\tline {n}" for n in range(3, 8)]
    assert out.splitlines()[5] == (
        f"[more lines follow (the file has {2 * 1024**3} bytes); continue with offset=8]"
    )
    assert peak < 8 * 1024 * 1024
    assert big not in ctx.reads.hashes  # not hashed whole: it cannot be changed on this read
    with pytest.raises(ToolFailure, match="MiB, more than the file tools load"):
        await EditTool().run(EditInput(file_path="big.log", old_string="line 3", new_string="x"), ctx)
    with pytest.raises(
        ToolFailure,
        match=f"offset 1000000 is past the first {MAX_SCAN_BYTES // 1024**2} MiB"
        r" \(99999 lines\)",
    ):
        await ReadTool().run(ReadInput(file_path="big.log", offset=1_000_000), ctx)


async def test_the_guard_holds_when_part_of_a_file_was_read(ws: Path, ctx: ToolContext) -> None:
    lines = [f"row {i} " + "x" * 40 + "\n" for i in range(20_000)]  # ~1 MB: editable, read in part
    (ws / "data.txt").write_text("".join(lines))
    out = (await ReadTool().run(ReadInput(file_path="data.txt", limit=2), ctx)).output
    assert out.endswith("[19998 more lines; continue with offset=3]")
    await EditTool().run(EditInput(file_path="data.txt", old_string="row 1 ", new_string="ROW 1 "), ctx)
    with (ws / "data.txt").open("ab") as handle:  # a change far from the window that was shown
        handle.write(b"appended\n")
    with pytest.raises(StaleReadError, match="changed on disk"):
        await EditTool().run(EditInput(file_path="data.txt", old_string="row 2 ", new_string="x"), ctx)
    (ws / "huge.txt").write_bytes(b"y\n" * (MAX_EDIT_BYTES // 2 + 1))
    await ReadTool().run(ReadInput(file_path="huge.txt", limit=1), ctx)
    with pytest.raises(ToolFailure, match="more than the file tools load"):
        await EditTool().run(EditInput(file_path="huge.txt", old_string="y", new_string="z"), ctx)


async def test_a_huge_limit_ends_the_window_at_the_budget(ws: Path, ctx: ToolContext) -> None:
    (ws / "wide.txt").write_text(("w" * 3000 + "\n") * 2000)  # 6 MB, each line kept to 8 KB
    result = await ReadTool().run(ReadInput(file_path="wide.txt", limit=10**9), ctx)
    assert result.full_output_path is not None  # more than the model may read at once: saved
    saved = Path(result.full_output_path).read_text().splitlines()
    assert len(saved) < 2000 and saved[-1].startswith(f"{len(saved):>6}\t")


async def test_folders_with_names_that_are_not_utf8(ws: Path, ctx: ToolContext) -> None:
    os.mkdir(os.path.join(os.fsencode(ws), b"dir\xff"))
    (ws / os.fsdecode(b"caf\xe9.txt")).write_text("x\n")
    listing = (await ReadTool().run(ReadInput(file_path="."), ctx)).output
    assert listing.splitlines()[1:] == ["caf\\xe9.txt", "dir\\xff/"]
    listing.encode("utf-8")  # the answer can be sent and stored


async def test_a_fifo_is_refused_at_once(ws: Path, ctx: ToolContext) -> None:
    os.mkfifo(ws / "pipe")
    with pytest.raises(ToolFailure, match="FIFO"):
        await ReadTool().run(ReadInput(file_path="pipe"), ctx)


async def test_images_and_binaries_are_judged_on_what_was_read(ws: Path, ctx: ToolContext) -> None:
    (ws / "huge.png").write_bytes(b"\x89PNG" + b"\0" * (6 * 1024 * 1024))
    with pytest.raises(ToolFailure, match="over the 5242880 byte limit"):
        await ReadTool().run(ReadInput(file_path="huge.png"), ctx)
    with (ws / "late-nul.txt").open("wb") as handle:  # text up front, a NUL far later: text
        handle.write(b"ok\n" * 30_000 + b"\0")
    out = (await ReadTool().run(ReadInput(file_path="late-nul.txt", limit=1), ctx)).output
    assert out.startswith("     1\tok")


@pytest.mark.parametrize("tail", [b"", b"\xe9 latin-1 at the very end\r\n", b"no newline at the end"])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
async def test_the_tool_over_many_chunks_reads_as_the_edit_tools_decode(
    ws: Path, ctx: ToolContext, tail: bytes, newline: bytes
) -> None:
    """A file of many 64 KB chunks: the window is decoded as decode_text decodes the whole file."""
    data = b"".join(f"caf\u00e9 {i}".encode() + newline for i in range(40_000)) + tail
    (ws / "f.txt").write_bytes(data)
    for offset, limit in ((1, 3), (20_000, 4), (39_999, 5)):
        out = (await ReadTool().run(ReadInput(file_path="f.txt", offset=offset, limit=limit), ctx)).output
        expected = whole_file_window(data, offset - 1, limit, ctx.limits.max_line_chars)
        assert not isinstance(expected, int)
        shown, rest = expected
        assert out.split("\n")[: len(shown)] == shown
        assert (f"[{rest} more lines; continue with offset={offset + len(shown)}]" in out) is (rest > 0)
    assert ctx.reads.hashes[ws / "f.txt"] == ReadLedger.digest(data)
