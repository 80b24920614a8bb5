"""patch: every grammar element, both formats, and all-or-nothing across files."""

from __future__ import annotations

import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from agent.errors import PatchApplyError, StaleReadError
from tools.base import ToolContext
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
    await _setup(ws, read_file, {
        "a.py": b"class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 1\n",
        "gone.txt": b"bye\n", "old.txt": b"x\ny\n", "tail.txt": b"a\nb\nend\n",
    })
    out = await _apply(ctx, """*** Begin Patch
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
""")
    assert (ws / "new/n.txt").read_text() == "hello\nworld\n"
    assert (ws / "a.py").read_text().endswith("def g(self):\n        return 2\n")
    assert "return 1" in (ws / "a.py").read_text()
    assert not (ws / "gone.txt").exists() and not (ws / "old.txt").exists()
    assert (ws / "moved/new.txt").read_text() == "x\nz\n"
    assert (ws / "tail.txt").read_text() == "a\nb\nEND\n"
    assert out.splitlines()[1:] == ["A new/n.txt", "M a.py", "D gone.txt", "R old.txt -> moved/new.txt",
                                    "M tail.txt"]


async def test_third_file_failure_leaves_all_untouched(ws: Path, ctx: ToolContext, read_file: Reader) -> None:
    files = {"one.txt": b"1\n", "two.txt": b"2\n", "three.txt": b"3\n"}
    await _setup(ws, read_file, files)
    patch = "*** Begin Patch\n" + "".join(
        f"*** Update File: {n}\n@@\n-{want}\n+changed\n" for n, want in
        (("one.txt", "1"), ("two.txt", "2"), ("three.txt", "not there"))) + "*** End Patch"
    with pytest.raises(PatchApplyError) as info:
        await _apply(ctx, patch)
    message = str(info.value)
    assert "three.txt: hunk 1 does not apply" in message and "1\t3" in message
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


async def test_unified_without_prefixes_add_delete_no_newline(ws: Path, ctx: ToolContext,
                                                              read_file: Reader) -> None:
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
    await _apply(ctx, "diff --git a/r1.txt b/r2.txt\nsimilarity index 100%\nrename from r1.txt\n"
                      "rename to r2.txt\n")
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
    inp = PatchInput(patch_text="*** Begin Patch\n*** Update File: b.txt\n*** Move to: a.txt\n@@\n-x\n+y\n"
                                "*** End Patch")
    assert PatchTool().conflict_key(inp, ctx) == f"patch:{ws / 'a.txt'},{ws / 'b.txt'}"
    assert PatchTool().permission_requests(inp, ctx)[0].patterns == ["b.txt", "a.txt"]


async def test_git_diff_output_applies(ws: Path, ctx: ToolContext, read_file: Reader, tmp_path: Path) -> None:
    old = "".join(f"def f{i}():\n    return {i}\n\n" for i in range(40))
    new = old.replace("return 7\n", "return 70\n").replace("def f30", "def g30") + "tail = 1\n"
    (tmp_path / "old.py").write_text(old)
    (tmp_path / "new.py").write_text(new)
    diff = subprocess.run(["git", "diff", "--no-index", "old.py", "new.py"], cwd=tmp_path,
                          capture_output=True, text=True).stdout
    diff = diff.replace("a/old.py", "a/m.py").replace("b/new.py", "b/m.py")
    await _setup(ws, read_file, {"m.py": old.encode()})
    await _apply(ctx, diff)
    assert (ws / "m.py").read_text() == new
