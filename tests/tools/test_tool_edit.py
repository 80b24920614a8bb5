"""The edit tool on a table of real-world sloppy edits: each case states the file after, or the error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.errors import StaleReadError, ToolFailure
from agent.tool import ToolContext
from tools.edit import EditInput, EditTool


@dataclass(frozen=True)
class Case:
    name: str
    before: bytes
    old: str
    new: str
    after: bytes | None = None
    error: str | None = None
    replace_all: bool = False


CASES = [
    Case("exact", b"a = 1\nb = 2\n", "b = 2", "b = 3", after=b"a = 1\nb = 3\n"),
    Case(
        "crlf kept",
        b"a = 1\r\nb = 2\r\nc = 3\r\n",
        "b = 2\nc = 3",
        "b = 20\nc = 30",
        after=b"a = 1\r\nb = 20\r\nc = 30\r\n",
    ),
    Case("crlf old_string with crlf", b"x\r\ny\r\n", "x\r\ny", "x\r\nz", after=b"x\r\nz\r\n"),
    Case("bom kept", b"\xef\xbb\xbfname = 'a'\n", "'a'", "'b'", after=b"\xef\xbb\xbfname = 'b'\n"),
    Case(
        "trailing spaces in file",
        b"def f():   \n    return 1  \n",
        "def f():\n    return 1",
        "def f():\n    return 2",
        after=b"def f():\n    return 2\n",
    ),
    Case(
        "tabs in file, spaces in old",
        b"if x:\n\tif y:\n\t\tgo()\n\tdone()\n",
        "    if y:\n        go()",
        "    if y:\n        stop()\n        go()",
        after=b"if x:\n\tif y:\n\t\tstop()\n\t\tgo()\n\tdone()\n",
    ),
    Case(
        "indentation off by a level",
        b"class A:\n    def f(self):\n        return 1\n",
        "def f(self):\n    return 1",
        "def f(self):\n    x = 1\n    return x",
        after=b"class A:\n    def f(self):\n        x = 1\n        return x\n",
    ),
    Case(
        "whitespace runs",
        b"x  =   compute( a,b )\n",
        "x = compute( a,b )",
        "x = compute(a, b)",
        after=b"x = compute(a, b)\n",
    ),
    Case(
        "escaped newlines",
        b"first()\nsecond()\n",
        "first()\\nsecond()",
        "first()\\nthird()",
        after=b"first()\nthird()\n",
    ),
    Case("escaped quotes", b'say("hi")\n', 'say(\\"hi\\")', 'say(\\"bye\\")', after=b'say("bye")\n'),
    Case(
        "anchors with a near middle",
        b"def g():\n    a = 1\n    b = 2\n    c = 3\n    return a\n",
        "def g():\n    a = 1\n    b = 22\n    c = 3\n    return a",
        "def g():\n    return 0",
        after=b"def g():\n    return 0\n",
    ),
    Case("ambiguous", b"x = 1\ny = 2\nx = 1\n", "x = 1", "x = 9", error="matches 2 places (lines 1, 3)"),
    Case("ambiguous tolerant", b"  x = 1\ny\n  x = 1\n", "x = 1 ", "x = 9", error="lines 1, 3"),
    Case(
        "replace_all",
        b"x = 1\ny = 2\nx = 1\n",
        "x = 1",
        "x = 9",
        after=b"x = 9\ny = 2\nx = 9\n",
        replace_all=True,
    ),
    Case(
        "near miss shows closest lines",
        b"def alpha():\n    return compute(1)\n",
        "def alpha():\n    return compute(2)",
        "pass",
        error="2\t    return compute(1)",
    ),
    Case("no match at all", b"abc\n", "zzzzzz qqq", "y", error="not found"),
    Case("same strings", b"abc\n", "abc", "abc", error="the same"),
    Case("no final newline kept", b"a\nb", "b", "c", after=b"a\nc"),
    Case(
        "spaces in file, tabs in old",
        b"def f():\n    if x:\n        y()\n",
        "\tif x:\n\t\ty()",
        "\tif x:\n\t\tz()",
        after=b"def f():\n    if x:\n        z()\n",
    ),
    Case(
        "crlf with indentation off",
        b"class A:\r\n    def f(self):\r\n        return 1\r\n",
        "def f(self):\n    return 1",
        "def f(self):\n    return 2",
        after=b"class A:\r\n    def f(self):\r\n        return 2\r\n",
    ),
    Case(
        "trailing spaces in old only",
        b"a = 1\nb = 2\n",
        "a = 1   \nb = 2  ",
        "a = 1\nb = 3",
        after=b"a = 1\nb = 3\n",
    ),
    Case(
        "two-space file, four-space old",
        b"def f():\n  if x:\n    y()\n",
        "    if x:\n        y()",
        "    if x:\n        y()\n        z()",
        after=b"def f():\n  if x:\n    y()\n    z()\n",
    ),
    Case("tabs kept on exact", b"\tkeep\tme\n", "keep\tme", "kept\tme", after=b"\tkept\tme\n"),
    Case(
        "near miss with a typo",
        b"for item in items:\n    process(item)\n",
        "for item in itmes:\n    process(item)",
        "x",
        error="lines 1-2",
    ),
    Case(
        "anchors need two middle lines", b"f(\n    foo(2)\n)\n", "f(\n    foo(1)\n)", "x", error="not found"
    ),
    Case(
        "latin-1 file keeps its bytes",
        b"caf\xe9 = 1\r\nx = 2\r\n",
        "x = 2",
        "x = '\u00e8'",
        after=b"caf\xe9 = 1\r\nx = '\xe8'\r\n",
    ),
    Case(
        "latin-1 file refuses what latin-1 cannot hold",
        b"caf\xe9 = 1\nx = 2\n",
        "x = 2",
        "x = '\u20ac'",
        error="cannot hold",
    ),
    Case(
        "anchors not similar enough",
        b"def g():\n    a = 1\n    b = 2\n    return a\n",
        "def g():\n    totally different stuff here\n    return a",
        "x",
        error="not found",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_edit_corpus(
    case: Case, ws: Path, ctx: ToolContext, read_file: Callable[[str], Awaitable[str]]
) -> None:
    target = ws / "f.py"
    target.write_bytes(case.before)
    await read_file("f.py")
    inp = EditInput(file_path="f.py", old_string=case.old, new_string=case.new, replace_all=case.replace_all)
    if case.error:
        with pytest.raises(ToolFailure) as info:
            await EditTool().run(inp, ctx)
        assert case.error in str(info.value)
        assert target.read_bytes() == case.before
    else:
        result = await EditTool().run(inp, ctx)
        assert target.read_bytes() == case.after
        assert result.changes and result.changes[0].action == "update"


async def test_edit_requires_read_and_fresh(
    ws: Path, ctx: ToolContext, read_file: Callable[[str], Awaitable[str]]
) -> None:
    target = ws / "f.txt"
    target.write_text("one\n")
    inp = EditInput(file_path="f.txt", old_string="one", new_string="two")
    with pytest.raises(StaleReadError, match="not read"):
        await EditTool().run(inp, ctx)
    await read_file("f.txt")
    target.touch()
    await EditTool().run(inp, ctx)  # a touch is not a change
    assert target.read_text() == "two\n"
    await EditTool().run(EditInput(file_path="f.txt", old_string="two", new_string="three"), ctx)
    target.write_text("changed behind our back\n")
    with pytest.raises(StaleReadError, match="changed on disk"):
        await EditTool().run(EditInput(file_path="f.txt", old_string="changed", new_string="x"), ctx)


async def test_edit_keeps_mode(
    ws: Path, ctx: ToolContext, read_file: Callable[[str], Awaitable[str]]
) -> None:
    target = ws / "run.sh"
    target.write_text("echo hi\n")
    target.chmod(0o751)
    await read_file("run.sh")
    await EditTool().run(EditInput(file_path="run.sh", old_string="hi", new_string="bye"), ctx)
    assert target.stat().st_mode & 0o777 == 0o751
    assert [p.name for p in ws.iterdir()] == ["run.sh"]
