"""patch: every grammar element, both formats, and all-or-nothing across files."""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agent.errors import PatchApplyError, StaleReadError, ToolFailure
from agent.tool import ToolContext
from tools.patch import PatchInput, PatchTool

Reader = Callable[[str], Awaitable[str]]


async def _setup(ws: Path, read_file: Reader, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_bytes(data)
        await read_file(name)


async def _apply(ctx: ToolContext, text: str) -> str:
    return (await PatchTool().run(PatchInput(patch_text=text), ctx)).output


async def test_codex_every_element(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(
        ws,
        read_file,
        {
            "a.py": b"class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 1\n",
            "gone.txt": b"bye\n",
            "old.txt": b"x\ny\n",
            "tail.txt": b"a\nb\nend\n",
        },
    )
    out = await _apply(
        ctx,
        """*** Begin Patch
*** Add File: new/n.txt
+hello
+world
*** Update File: a.py
@@ class A:
@@     def g(self):
-        return 1
+        return 2
*** Delete File: gone.txt
*** Update File: old.txt
*** Move to: moved/new.txt
@@
 x
-y
+z
*** Update File: tail.txt
@@
 b
-end
+END
*** End of File
*** End Patch
""",
    )
    assert (ws / "new/n.txt").read_text() == "hello\nworld\n"
    assert (ws / "a.py").read_text().endswith("def g(self):\n        return 2\n")
    assert "return 1" in (ws / "a.py").read_text()
    assert not (ws / "gone.txt").exists() and not (ws / "old.txt").exists()
    assert (ws / "moved/new.txt").read_text() == "x\nz\n"
    assert (ws / "tail.txt").read_text() == "a\nb\nEND\n"
    assert out.splitlines()[1:] == [
        "A new/n.txt",
        "M a.py",
        "D gone.txt",
        "R old.txt -> moved/new.txt",
        "M tail.txt",
    ]


async def test_third_file_failure_leaves_all_untouched(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    files = {"one.txt": b"1\n", "two.txt": b"2\n", "three.txt": b"value = 3\n"}
    await _setup(ws, read_file, files)
    patch = (
        "*** Begin Patch\n"
        + "".join(
            f"*** Update File: {n}\n@@\n-{want}\n+changed\n"
            for n, want in (("one.txt", "1"), ("two.txt", "2"), ("three.txt", "value = 4"))
        )
        + "*** End Patch"
    )
    with pytest.raises(PatchApplyError) as info:
        await _apply(ctx, patch)
    message = str(info.value)
    assert "three.txt: hunk 1 does not apply" in message and "1\tvalue = 3" in message
    assert "the file has '3' where the hunk has '4'" in message
    assert {n: (ws / n).read_bytes() for n in files} == files


async def test_unified_git_diff_with_hints_shifted(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    body = "".join(f"line {i}\n" for i in range(1, 30))
    await _setup(ws, read_file, {"f.txt": ("extra\n" * 5 + body).encode()})
    diff = """diff --git a/f.txt b/f.txt
index 1..2 100644
--- a/f.txt
+++ b/f.txt
@@ -2,3 +2,3 @@ ctx
 line 2
-line 3
+line three
 line 4
@@ -20,2 +20,3 @@
 line 20
+inserted
 line 21
"""
    await _apply(ctx, diff)
    text = (ws / "f.txt").read_text()
    assert "line 2\nline three\nline 4\n" in text and "line 20\ninserted\nline 21\n" in text


async def test_unified_without_prefixes_add_delete_no_newline(
    ws: Path, ctx: ToolContext, read_file: Reader
) -> None:
    await _setup(ws, read_file, {"keep.txt": b"a\nb", "del.txt": b"x\n"})
    diff = """--- keep.txt
+++ keep.txt
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+c
--- del.txt
+++ /dev/null
@@ -1 +0,0 @@
-x
--- /dev/null
+++ added.txt
@@ -0,0 +1 @@
+new
\\ No newline at end of file
"""
    await _apply(ctx, diff)
    assert (ws / "keep.txt").read_bytes() == b"a\nc\n"
    assert not (ws / "del.txt").exists()
    assert (ws / "added.txt").read_bytes() == b"new"


async def test_crlf_and_tolerant_context(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(ws, read_file, {"w.txt": "say \u201chi\u201d  \r\nnext\r\n".encode()})
    await _apply(ctx, '*** Begin Patch\n*** Update File: w.txt\n@@\n say "hi"\n-next\n+after\n*** End Patch')
    assert (ws / "w.txt").read_bytes() == "say \u201chi\u201d  \r\nafter\r\n".encode()


async def test_rename_over_existing(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    (ws / "src.txt").write_text("s\n")
    (ws / "dst.txt").write_text("d\n")
    await read_file("src.txt")
    patch = "*** Begin Patch\n*** Update File: src.txt\n*** Move to: dst.txt\n@@\n-s\n+S\n*** End Patch"
    with pytest.raises(StaleReadError, match=r"dst\.txt"):
        await _apply(ctx, patch)
    assert (ws / "src.txt").read_text() == "s\n" and (ws / "dst.txt").read_text() == "d\n"
    await read_file("dst.txt")
    await _apply(ctx, patch)
    assert not (ws / "src.txt").exists() and (ws / "dst.txt").read_text() == "S\n"


async def test_git_rename_diff(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(ws, read_file, {"r1.txt": b"same\n"})
    await _apply(
        ctx, "diff --git a/r1.txt b/r2.txt\nsimilarity index 100%\nrename from r1.txt\nrename to r2.txt\n"
    )
    assert (ws / "r2.txt").read_text() == "same\n" and not (ws / "r1.txt").exists()


async def test_guard_and_bad_input(ws: Path, ctx: ToolContext) -> None:
    (ws / "u.txt").write_text("u\n")
    with pytest.raises(StaleReadError):
        await _apply(ctx, "*** Begin Patch\n*** Update File: u.txt\n@@\n-u\n+v\n*** End Patch")
    with pytest.raises(PatchApplyError, match="neither"):
        await _apply(ctx, "just some words")
    with pytest.raises(PatchApplyError, match="patch line 3"):
        await _apply(ctx, "*** Begin Patch\n*** Update File: u.txt\nbogus\n*** End Patch")


def test_conflict_key(ws: Path, ctx: ToolContext) -> None:
    inp = PatchInput(
        patch_text="*** Begin Patch\n*** Update File: b.txt\n*** Move to: a.txt\n@@\n-x\n+y\n*** End Patch"
    )
    assert PatchTool().conflict_key(inp, ctx) == f"patch:{ws / 'a.txt'},{ws / 'b.txt'}"
    assert PatchTool().permission_requests(inp, ctx)[0].patterns == ["b.txt", "a.txt"]


async def test_git_diff_output_applies(ws: Path, ctx: ToolContext, read_file: Reader, tmp_path: Path) -> None:
    old = "".join(f"def f{i}():\n    return {i}\n\n" for i in range(40))
    new = old.replace("return 7\n", "return 70\n").replace("def f30", "def g30") + "tail = 1\n"
    (tmp_path / "old.py").write_text(old)
    (tmp_path / "new.py").write_text(new)
    diff = subprocess.run(
        ["git", "diff", "--no-index", "old.py", "new.py"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    diff = diff.replace("a/old.py", "a/m.py").replace("b/new.py", "b/m.py")
    await _setup(ws, read_file, {"m.py": old.encode()})
    await _apply(ctx, diff)
    assert (ws / "m.py").read_text() == new


async def test_codex_keeps_missing_final_newline_and_inserts_after_anchor(
    ws: Path, ctx: ToolContext, read_file: Reader
) -> None:
    await _setup(ws, read_file, {"n.py": b"def a():\n    pass\ndef b():\n    pass"})
    await _apply(
        ctx,
        "*** Begin Patch\n*** Update File: n.py\n@@ def a():\n+    # inserted\n"
        "@@\n def b():\n-    pass\n+    return 1\n*** End Patch",
    )
    assert (ws / "n.py").read_bytes() == b"def a():\n    # inserted\n    pass\ndef b():\n    return 1"


async def test_unified_on_crlf_file(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(ws, read_file, {"c.txt": b"one\r\ntwo\r\nthree\r\n"})
    diff = "--- a/c.txt\r\n+++ b/c.txt\r\n@@ -1,3 +1,3 @@\r\n one\r\n-two\r\n+TWO\r\n three\r\n"
    await _apply(ctx, diff)
    assert (ws / "c.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\n"


async def test_ambiguous_context_uses_order_and_hints(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(ws, read_file, {"d.txt": b"x\nsame\nx\nsame\n"})
    await _apply(ctx, "--- a/d.txt\n+++ b/d.txt\n@@ -3,2 +3,2 @@\n x\n-same\n+second\n")
    assert (ws / "d.txt").read_text() == "x\nsame\nx\nsecond\n"
    await _apply(ctx, "*** Begin Patch\n*** Update File: d.txt\n@@\n x\n-same\n+first\n*** End Patch")
    assert (ws / "d.txt").read_text() == "x\nfirst\nx\nsecond\n"


async def test_write_never_follows_link_out(ws: Path, tmp_path: Path, ctx: ToolContext) -> None:
    outside = tmp_path / "target.txt"
    outside.write_text("keep\n")
    (ws / "out").symlink_to(outside)
    with pytest.raises(ToolFailure, match="write refused by the sandbox policy"):
        await _apply(ctx, "*** Begin Patch\n*** Add File: out\n+x\n*** End Patch")
    assert outside.read_text() == "keep\n"


async def test_write_failure_part_way_restores_every_file(
    ws: Path, ctx: ToolContext, read_file: Reader
) -> None:
    files = {"one.txt": b"1\n", "two.txt": b"2\n", "three.txt": b"3\n"}
    await _setup(ws, read_file, files)

    class FailingEditor:
        """Writes to disk like an editor would, but the disk fills up on three.txt."""

        async def read_text(self, path: Path) -> str | None:
            return None

        async def write_text(self, path: Path, text: str) -> None:
            if path.name == "three.txt":
                raise OSError(28, "No space left on device")
            path.write_text(text)

    ctx.editor = FailingEditor()
    patch = (
        "*** Begin Patch\n"
        + "".join(
            f"*** Update File: {n}\n@@\n-{data.decode().strip()}\n+changed\n" for n, data in files.items()
        )
        + "*** End Patch"
    )
    with pytest.raises(PatchApplyError, match="every file was restored"):
        await _apply(ctx, patch)
    assert {n: (ws / n).read_bytes() for n in files} == files
    ctx.editor = None
    await _apply(ctx, patch)  # the guard still knows the restored files
    assert (ws / "three.txt").read_text() == "changed\n"


async def test_cancel_between_editor_writes_restores_every_file(
    ws: Path, ctx: ToolContext, read_file: Reader
) -> None:
    """Through an editor every write is awaited: a cancel between two must not half-apply."""
    import asyncio

    files = {"one.txt": b"1\n", "two.txt": b"2\n", "three.txt": b"3\n"}
    await _setup(ws, read_file, files)
    reached_third = asyncio.Event()

    class SlowEditor:
        async def read_text(self, path: Path) -> str | None:
            return None

        async def write_text(self, path: Path, text: str) -> None:
            if path.name == "three.txt":
                reached_third.set()
                await asyncio.Event().wait()  # the editor never answers; the run is cancelled
            path.write_text(text)

    ctx.editor = SlowEditor()
    patch = (
        "*** Begin Patch\n"
        + "".join(
            f"*** Update File: {n}\n@@\n-{data.decode().strip()}\n+changed\n" for n, data in files.items()
        )
        + "*** End Patch"
    )
    task = asyncio.ensure_future(_apply(ctx, patch))
    await asyncio.wait_for(reached_third.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert {n: (ws / n).read_bytes() for n in files} == files


async def test_cancelled_search(ws: Path, ctx: ToolContext) -> None:
    from tools.grep import GrepInput, GrepTool

    ctx.cancel.set()
    with pytest.raises(ToolFailure, match="cancelled"):
        await GrepTool().run(GrepInput(pattern="x"), ctx)


async def test_unified_hunks_without_numbers(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    await _setup(ws, read_file, {"h.py": b"a = 1\nb = 2\nc = 3\nd = 4\n"})
    await _apply(
        ctx, "--- a/h.py\n+++ b/h.py\n@@ ... @@\n a = 1\n-b = 2\n+b = 20\n@@\n c = 3\n-d = 4\n+d = 40\n"
    )
    assert (ws / "h.py").read_text() == "a = 1\nb = 20\nc = 3\nd = 40\n"
