"""read and write on real files: numbering, images, binaries, folders, the guard, the boundary."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agent.errors import PathOutsideWorkspaceError, PolicyDeniedError, StaleReadError, ToolFailure
from agent.tool import OutputLimits, ToolContext
from tools._paths import is_inside, path_permissions, resolve_path
from tools.read import ReadInput, ReadTool
from tools.write import WriteInput, WriteTool

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
    "789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def test_read_numbers_lines_and_pages(ws: Path, ctx: ToolContext) -> None:
    (ws / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = (await ReadTool().run(ReadInput(file_path="a.txt", offset=3, limit=2), ctx)).output
    assert out.startswith("     3\tline 3\n     4\tline 4")
    assert "offset=5" in out
    with pytest.raises(ToolFailure, match="has 10 lines"):
        await ReadTool().run(ReadInput(file_path="a.txt", offset=20), ctx)


async def test_read_cuts_long_lines_and_caps(ws: Path, tmp_path: Path) -> None:
    limits = OutputLimits(max_lines=5, max_line_chars=10)
    ctx = ToolContext(workspace=ws, data_dir=tmp_path / "d", limits=limits)
    (ws / "long.txt").write_text("x" * 50 + "\n" + "".join(f"{i}\n" for i in range(20)))
    result = await ReadTool().run(ReadInput(file_path="long.txt"), ctx)
    assert "     1\txxxxxxxxxx... [line cut: 50 chars]" in result.output
    assert "more lines; continue with offset=6" in result.output


async def test_read_image_binary_empty_dir(ws: Path, ctx: ToolContext) -> None:
    (ws / "p.png").write_bytes(PNG)
    result = await ReadTool().run(ReadInput(file_path="p.png"), ctx)
    assert result.images and result.images[0].media_type == "image/png"
    (ws / "b.bin").write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(ToolFailure, match="binary file \\(30 bytes"):
        await ReadTool().run(ReadInput(file_path="b.bin"), ctx)
    (ws / "empty.txt").write_bytes(b"")
    assert "empty" in (await ReadTool().run(ReadInput(file_path="empty.txt"), ctx)).output
    (ws / "sub").mkdir()
    listing = (await ReadTool().run(ReadInput(file_path="."), ctx)).output
    assert "sub/" in listing.split("\n") and "b.bin" in listing.split("\n")
    with pytest.raises(ToolFailure, match="no such file"):
        await ReadTool().run(ReadInput(file_path="missing.txt"), ctx)


async def test_paths_stay_inside(ws: Path, outside: Path, ctx: ToolContext) -> None:
    """Outside the roots: reading where the policy allows it needs external_directory; writing
    there is refused by the policy, before anyone could be asked."""
    target = outside / "outside.txt"
    target.write_text("secret\n")
    (ws / "link").symlink_to(target)
    with pytest.raises(PathOutsideWorkspaceError):
        resolve_path("link", ctx, read_only=True)
    with pytest.raises(PolicyDeniedError, match="write refused by the sandbox policy"):
        await WriteTool().run(WriteInput(file_path=str(target), content="x"), ctx)
    with pytest.raises(PolicyDeniedError):
        path_permissions("edit", ["link"], ctx)
    assert target.read_text() == "secret\n"
    reqs = path_permissions("read", ["link", "src/a.py"], ctx)
    assert reqs[0].patterns == [str(target), "src/a.py"]
    assert reqs[1].permission == "external_directory" and reqs[1].patterns == [str(outside)]
    assert is_inside(resolve_path("src/a.py", ctx), ctx.roots)
    ctx.allow_external = True
    assert resolve_path("link", ctx, read_only=True) == target
    assert "secret" in (await ReadTool().run(ReadInput(file_path="link"), ctx)).output
    with pytest.raises(PolicyDeniedError):  # external_directory never makes a place writable
        await WriteTool().run(WriteInput(file_path="link", content="x"), ctx)


async def test_saved_outputs_are_readable_but_not_writable(ws: Path, ctx: ToolContext) -> None:
    saved = ctx.data_dir / "bash output-1.txt"
    saved.parent.mkdir(parents=True)
    saved.write_text("line one\nline two\n")
    assert path_permissions("read", [str(saved)], ctx)[-1].permission == "read"  # no external ask
    result = await ReadTool().run(ReadInput(file_path=str(saved), offset=2), ctx)
    assert "line two" in result.output and "line one" not in result.output
    with pytest.raises(PolicyDeniedError):
        path_permissions("edit", [str(saved)], ctx)
    with pytest.raises(PolicyDeniedError):
        await WriteTool().run(WriteInput(file_path=str(saved), content="x"), ctx)
    assert saved.read_text() == "line one\nline two\n"


async def test_write_creates_and_guards(
    ws: Path, ctx: ToolContext, read_file: Callable[[str], Awaitable[str]]
) -> None:
    result = await WriteTool().run(WriteInput(file_path="new/deep/f.txt", content="a\nb\n"), ctx)
    assert (ws / "new/deep/f.txt").read_text() == "a\nb\n" and result.changes[0].action == "add"
    # written by the agent counts as read
    await WriteTool().run(WriteInput(file_path="new/deep/f.txt", content="c\n"), ctx)
    (ws / "crlf.txt").write_bytes(b"\xef\xbb\xbfold\r\n")
    os.chmod(ws / "crlf.txt", 0o640)
    with pytest.raises(StaleReadError):
        await WriteTool().run(WriteInput(file_path="crlf.txt", content="new\n"), ctx)
    await read_file("crlf.txt")
    await WriteTool().run(WriteInput(file_path="crlf.txt", content="new\nlines\n"), ctx)
    assert (ws / "crlf.txt").read_bytes() == b"\xef\xbb\xbfnew\r\nlines\r\n"
    assert (ws / "crlf.txt").stat().st_mode & 0o777 == 0o640
    (ws / "crlf.txt").write_bytes(b"other\r\n")
    with pytest.raises(StaleReadError, match="changed on disk"):
        await WriteTool().run(WriteInput(file_path="crlf.txt", content="x"), ctx)


async def test_editor_buffers_win(ws: Path, ctx: ToolContext) -> None:
    class Buffers:
        def __init__(self) -> None:
            self.files: dict[Path, str] = {ws / "e.txt": "from the editor\n"}

        async def read_text(self, path: Path) -> str | None:
            return self.files.get(path)

        async def write_text(self, path: Path, text: str) -> None:
            self.files[path] = text

    buffers = Buffers()
    ctx.editor = buffers
    (ws / "e.txt").write_text("on disk\n")
    assert "from the editor" in (await ReadTool().run(ReadInput(file_path="e.txt"), ctx)).output
    await WriteTool().run(WriteInput(file_path="e.txt", content="edited\n"), ctx)
    assert buffers.files[ws / "e.txt"] == "edited\n"
    assert (ws / "e.txt").read_text() == "on disk\n"


@pytest.mark.parametrize("seed", range(8))
async def test_random_bytes_without_nul_are_refused(ws: Path, ctx: ToolContext, seed: int) -> None:
    import random

    rng = random.Random(seed)
    noise = bytes(rng.randrange(1, 256) for _ in range(300))  # no NUL, so git's rule misses it
    (ws / "noise.dat").write_bytes(noise)
    with pytest.raises(ToolFailure, match="binary file \\(300 bytes"):
        await ReadTool().run(ReadInput(file_path="noise.dat"), ctx)


async def test_latin1_and_cut_utf8_stay_text(ws: Path, ctx: ToolContext) -> None:
    from tools._files import is_binary

    latin = "Caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade\n\tM\xfcller \xa9 2020\n".encode("latin-1")
    (ws / "menu.txt").write_bytes(latin)
    out = (await ReadTool().run(ReadInput(file_path="menu.txt"), ctx)).output
    assert "Café crème brûlée" in out and "Müller © 2020" in out
    cut = b"x" * 8191 + "é rest\n".encode()  # the 8 KB sample ends inside the é
    assert not is_binary(cut) and not is_binary(b"\x1b[31mcaf\xe9\x1b[0m\n")
    assert is_binary(b"ok" + bytes(range(1, 32)) * 2 + b"\xff")  # controls and invalid UTF-8
