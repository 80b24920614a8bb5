"""The guarantee that matters, over random files and random edits: either the file is exactly what the
edit describes, or it is unchanged and the tool reports an error. Never a success with a different file.

Files: random lines (with repeats, tabs, NFC and NFD text, typographic quotes, lone CRs), LF, CRLF
or mixed endings, a BOM or not, a final newline or not. Edits: `edit` with old_string copied from
the file (sometimes sent with CRLF, or in the other Unicode form), and patches in both formats made
from a random change (with their usual decorations: a trailing newline, a blank line before
`*** End Patch`, a heredoc, CRLF line breaks).

What "exactly" means for the bytes: the LF view is the expected one; every line before and after
the changed lines keeps its ending byte for byte; a changed or new line ends as some line of the
changed region did, or as most lines of the file do (in a file with one kind of ending: that one).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import ToolFailure
from agent.tool import ToolContext
from tools._line_endings import split_endings, usual_ending
from tools.edit import EditInput, EditTool
from tools.patch import PatchInput, PatchTool
from tools.read import ReadInput, ReadTool

_TOKENS = [
    "a",
    "b",
    "x",
    "y",
    "def",
    "return",
    " ",
    "  ",
    "\t",
    "=",
    "(",
    ")",
    "0",
    "1",
    "\u00e9",
    "e\u0301",
    "\u201chi\u201d",
    "\r",
]
_COMMON = ["", "    pass", "}", "x = 1", "caf\u00e9", "cafe\u0301"]
_BOM = b"\xef\xbb\xbf"
SETTINGS = settings(
    max_examples=int(os.environ.get("SUBAGENT_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""150 examples per property in a normal run; set SUBAGENT_PROPERTY_EXAMPLES to hunt longer."""

line_text = st.lists(st.sampled_from(_TOKENS), max_size=5).map("".join)
lines_st = st.lists(st.one_of(st.sampled_from(_COMMON), line_text), min_size=1, max_size=14)


@dataclass(frozen=True)
class File:
    """A random file: its lines, the ending of each, BOM, and the bytes they make."""

    bodies: list[str]
    endings: list[str]
    """One per line; the last may be "" (no final newline)."""
    bom: bool

    @property
    def raw(self) -> str:
        return "".join(b + e for b, e in zip(self.bodies, self.endings, strict=True))

    @property
    def data(self) -> bytes:
        return (_BOM if self.bom else b"") + self.raw.encode()

    @property
    def view(self) -> str:
        return "".join(b + ("\n" if e else "") for b, e in zip(self.bodies, self.endings, strict=True))


@st.composite
def files(draw: st.DrawFn, cr_at_line_end: bool = True) -> File:
    bodies = draw(lines_st)
    if not cr_at_line_end:
        bodies = [b.rstrip("\r") for b in bodies]
    kind = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    if kind == "mixed":
        endings = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(bodies), max_size=len(bodies)))
    else:
        endings = [{"lf": "\n", "crlf": "\r\n"}[kind]] * len(bodies)
    endings = [("\r\n" if b.endswith("\r") else e) for b, e in zip(bodies, endings, strict=True)]
    if not draw(st.booleans()) and bodies[-1]:
        endings[-1] = ""
    return File(bodies, endings, draw(st.booleans()))


def _run(tool_input: EditInput | PatchInput, data: bytes) -> tuple[bytes, str | None]:
    """Run the real tool on a one-file workspace; the bytes after, and the error if any."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp).resolve() / "ws"
        ws.mkdir()
        (ws / "f.txt").write_bytes(data)

        async def go() -> str | None:
            ctx = ToolContext(workspace=ws, data_dir=Path(tmp) / "data")
            await ReadTool().run(ReadInput(file_path="f.txt"), ctx)
            try:
                if isinstance(tool_input, EditInput):
                    await EditTool().run(tool_input, ctx)
                else:
                    await PatchTool().run(tool_input, ctx)
            except ToolFailure as exc:
                return str(exc)
            return None

        error = asyncio.run(go())
        return (ws / "f.txt").read_bytes(), error


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _lines(raw: str) -> list[tuple[str, str]]:
    """(text, ending) of each line of a decoded file; the last ending is "" without a final newline."""
    view, endings = split_endings(raw)
    bodies = view.split("\n")
    pairs = list(zip(bodies, endings, strict=False))
    return pairs + ([(bodies[-1], "")] if bodies[-1] else [])


def check_bytes(before: File, after: bytes, expected_view: str, first: int, last: int) -> None:
    """`after` is the expected view, and lines `first..last` of `before` are the only ones that may
    end differently (each as some line of that region did, or as most lines of the file do)."""
    assert after.startswith(_BOM) == before.bom
    got = _lines(after[len(_BOM) :].decode() if before.bom else after.decode())
    assert "".join(b + ("\n" if e else "") for b, e in got) == expected_view
    old = list(zip(before.bodies, before.endings, strict=True))
    tail = len(old) - 1 - last
    assert first + tail <= len(got)
    for k in list(range(first)) + [len(got) - j for j in range(1, tail + 1)]:
        mine = old[k] if k < first else old[k - len(got) + len(old)]
        if mine[1] and got[k][1]:
            assert got[k][1] == mine[1], f"line {k + 1} ({got[k][0]!r}) lost its ending"
    endings = [e for _, e in old if e]
    allowed = {usual_ending(endings)} | {e for _, e in old[first : last + 1] if e}
    for body, ending in got[first : len(got) - tail]:
        assert not ending or ending in allowed or (body.endswith("\r") and ending == "\r\n"), body
    if len(set(endings)) == 1:
        assert all(e in (endings[0], "") or b.endswith("\r") for b, e in got)


def _whole_whitespace(view: str, start: int, stop: int) -> tuple[int, int]:
    """The span grown over the rest of its first line's indentation and its last line's trailing
    whitespace: a model copies those whole or not at all (a part of them is an indentation slip,
    which the line matchers tolerate by taking whole lines)."""
    line_start = view.rfind("\n", 0, start) + 1
    if not view[line_start:start].strip(" \t"):
        start = line_start
    line_end = view.find("\n", stop)
    line_end = len(view) if line_end < 0 else line_end
    if stop > start and view[stop - 1] != "\n" and not view[stop:line_end].strip(" \t"):
        stop = line_end
    return start, stop


def _line_of(view: str, offset: int) -> int:
    return view.count("\n", 0, offset)


@given(before=files(), data=st.data())
@SETTINGS
def test_edit_is_exact_or_refused(before: File, data: st.DataObject) -> None:
    view = before.view
    start = data.draw(st.integers(0, max(0, len(view) - 1)))
    stop = data.draw(st.integers(start + 1, max(start + 1, len(view))))
    start, stop = _whole_whitespace(view, start, stop)
    old = view[start:stop]
    if not old or "\r\n" in old:
        return
    form = data.draw(st.sampled_from(["as is", "crlf", "NFC", "NFD"]))
    sent_old = {"as is": old, "crlf": old.replace("\n", "\r\n")}.get(form) or unicodedata.normalize(form, old)
    new = data.draw(st.lists(st.one_of(line_text, st.just("\n"), st.just("\r\n")), max_size=6).map("".join))
    after, error = _run(EditInput(file_path="f.txt", old_string=sent_old, new_string=new), before.data)
    want_old, want_new = sent_old.replace("\r\n", "\n"), new.replace("\r\n", "\n")
    count = sum(1 for i in range(len(view)) if view.startswith(want_old, i))
    if error is not None:
        assert after == before.data, f"refused ({error}) but changed the file"
        assert count != 1 or want_old == want_new or view.replace(want_old, want_new) == view, error
        return
    if count:
        assert count == 1, "an ambiguous edit succeeded"
        at = view.index(want_old)
        expected = view[:at] + want_new + view[at + len(want_old) :]
        check_bytes(before, after, expected, _line_of(view, at), _line_of(view, at + len(want_old)))
        return
    raw = after[len(_BOM) :].decode() if before.bom else after.decode()
    result = _nfc(split_endings(raw)[0])
    whole, target = _nfc(view), _nfc(want_old)
    places = [i for i in range(len(whole)) if whole.startswith(target, i)]
    assert len(places) == 1, f"matched under Unicode equivalence, but {len(places)} places fit"
    assert result == whole[: places[0]] + _nfc(want_new) + whole[places[0] + len(target) :]


@dataclass(frozen=True)
class Change:
    """Lines `[first, stop)` of the file replaced by `new`, with `context` lines around."""

    first: int
    stop: int
    new: list[str]
    context: int


@st.composite
def changes(draw: st.DrawFn, before: File) -> Change:
    n = len(before.bodies)
    first = draw(st.integers(0, n))
    stop = draw(st.integers(first, min(n, first + 4)))
    new = draw(
        st.lists(st.one_of(st.sampled_from(_COMMON), line_text).map(lambda s: s.rstrip("\r")), max_size=4)
    )
    return Change(first, stop, new, draw(st.integers(0, 3)))


def codex_patch(before: File, change: Change, decoration: str) -> str:
    bodies = before.bodies
    lo, hi = max(0, change.first - change.context), min(len(bodies), change.stop + change.context)
    hunk = [f" {b}" for b in bodies[lo : change.first]] + [
        f"-{b}" for b in bodies[change.first : change.stop]
    ]
    hunk += [f"+{b}" for b in change.new] + [f" {b}" for b in bodies[change.stop : hi]]
    text = "*** Begin Patch\n*** Update File: f.txt\n@@\n" + "\n".join(hunk) + "\n"
    text += {"blank before end": "\n", "heredoc": ""}.get(decoration, "") + "*** End Patch\n"
    if decoration == "heredoc":
        text = "apply_patch <<'EOF'\n" + text + "EOF\n"
    return text.replace("\n", "\r\n") if decoration == "crlf" else text


def unified_patch(before: File, change: Change) -> tuple[str, str]:
    """`git diff` of the file's view against the changed view, and that changed view."""
    after = before.bodies[: change.first] + change.new + before.bodies[change.stop :]
    final = "\n" if before.endings[-1] or (after and not after[-1]) else ""
    changed = "\n".join(after) + (final if after else "")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "a").write_text(before.view, newline="")
        Path(tmp, "b").write_text(changed, newline="")
        out = subprocess.run(
            ["git", "diff", "--no-index", f"-U{change.context}", "a", "b"], cwd=tmp, capture_output=True
        ).stdout.decode()
    return out.replace("a/a", "a/f.txt").replace("b/b", "b/f.txt"), changed


def codex_expected(before: File, change: Change) -> tuple[int, int, list[str]] | None:
    """Where the Codex grammar puts the hunk: (first line, old count, new lines), None if refused."""
    bodies = before.bodies
    lo, hi = max(0, change.first - change.context), min(len(bodies), change.stop + change.context)
    old = bodies[lo:hi]
    new = bodies[lo : change.first] + change.new + bodies[change.stop : hi]
    while old and new and not old[-1].strip() and not new[-1].strip() and hi > change.stop:
        old, new, hi = old[:-1], new[:-1], hi - 1
    if not old:
        return len(bodies), 0, new
    places = [p for p in range(len(bodies) - len(old) + 1) if bodies[p : p + len(old)] == old]
    if not any(o.strip() for o in old) and len(places) > 1:
        return None
    return places[0], len(old), new


def _hunk_region(diff: str) -> tuple[int, int, list[str]]:
    """The old lines the diff's hunks cover, as (first line, count): lines outside keep their bytes."""
    spans = []
    for m in re.finditer(r"^@@ -(\d+)(?:,(\d+))? ", diff, re.M):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        first = start if count == 0 else start - 1
        spans.append((first, first + count))
    first = min(a for a, _ in spans)
    return first, max(b for _, b in spans) - first, []


@given(before=files(cr_at_line_end=False), data=st.data())
@SETTINGS
def test_patch_is_exact_or_refused(before: File, data: st.DataObject) -> None:
    change = data.draw(changes(before))
    old = before.bodies[change.first : change.stop]
    if old == change.new:
        return
    form = data.draw(st.sampled_from(["codex", "unified"]))
    changed = ""
    if form == "codex":
        decoration = data.draw(st.sampled_from(["plain", "blank before end", "heredoc", "crlf"]))
        text = codex_patch(before, change, decoration)
        where = codex_expected(before, change)
    else:
        text, changed = unified_patch(before, change)
        where = _hunk_region(text)
    after, error = _run(PatchInput(patch_text=text), before.data)
    if error is not None:
        assert after == before.data, f"refused ({error}) but changed the file"
        assert form == "codex" and where is None, f"a patch that applies was refused: {error}"
        return
    assert where is not None, "an ambiguous hunk succeeded"
    first, count, new = where
    bodies = before.bodies
    result = bodies[:first] + new + bodies[first + count :]
    final = bool(before.endings[-1]) or (first + count == len(bodies) and count > 0 and not new)
    expected = changed if form == "unified" else "\n".join(result) + ("\n" if result and final else "")
    check_bytes(before, after, expected, first, first + count - 1)
