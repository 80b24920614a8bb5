"""Finding `old_string` in a file the way a careful person would when the model was sloppy.

The model's strings first go through a few normalisations (`_probes`): as given, over-escaped
(`\\$`, `\\\\`, `\\"`, `\\n` as they appear in JSON twice encoded), and without a stray blank line
at the start. For each, exact matching comes first, then a chain of looser line matchers; the first
that finds anything decides, and more than one place is an error unless `replace_all`. Canonical
Unicode equivalence (NFC/NFD) is tried last, and only where it finds exactly one place; a
tolerance must find no more places under that equivalence than in the file's forms. A looser
match writes `new_string` re-indented to the block that was really there.
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agent.errors import EditMatchError
from tools._canonical import canonical_spans, in_form_of, nfc
from tools._nearest import explain_difference, nearest_window, numbered
from tools._reindent import indent_cols, reindent

_ANCHOR_SIMILARITY = 0.8
_ESCAPE = re.compile(r"\\([nt\"'$\\`])")
_ESCAPED = {"n": "\n", "t": "\t"}
_STRAY_BLANK = re.compile(r"\A(?:[ \t]*\n)+")


@dataclass(frozen=True, eq=False, repr=False)
class Span:
    """A match: character offsets into the text, and the 1-based line where it starts."""

    start: int
    end: int
    line: int
    reindent: bool
    """True when new_string must be re-indented to the matched block."""


@dataclass(frozen=True, eq=False, repr=False)
class Probe:
    """The model's strings after one normalisation."""

    old: str
    new: str
    name: str
    """How they were normalised ("" when taken as given)."""


@dataclass(frozen=True, eq=False, repr=False)
class Replacement:
    """An edit worked out in memory: the new text and what replaced what."""

    text: str
    spans: list[tuple[int, int, str]]
    """(start, end, replacement) in the old text, in order."""
    how: str
    """"exact", or the tolerance the match needed."""


def _dedent(lines: list[str]) -> list[str]:
    expanded = [ln.expandtabs(4).rstrip() for ln in lines]
    base = min((indent_cols(ln) for ln in expanded if ln.strip()), default=0)
    return [ln[base:] if ln.strip() else "" for ln in expanded]


def _by_indent(block: list[str], old: list[str]) -> bool:
    return _dedent(block) == _dedent(old)


def _by_anchors(block: list[str], old: list[str]) -> bool:
    """First and last lines the same (and not blank: a blank line anchors nothing), the middle alike."""
    if len(old) < 4 or not old[0].strip() or not old[-1].strip() or block[-1].strip() != old[-1].strip():
        return False
    mid_b = "\n".join(b.strip() for b in block[1:-1])
    mid_o = "\n".join(o.strip() for o in old[1:-1])
    return difflib.SequenceMatcher(None, mid_b, mid_o).ratio() >= _ANCHOR_SIMILARITY


def _same_lines(block: list[str], old: list[str]) -> bool:
    return True


@dataclass(frozen=True, eq=False, repr=False)
class _LineMatcher:
    """A tolerance on whole lines: `key` must agree on the first line, `same` on the block."""

    name: str
    key: Callable[[str], str]
    same: Callable[[list[str], list[str]], bool]
    every_line: bool
    """True when `key` must agree on every line (then `same` only adds to it)."""


def _runs(line: str) -> str:
    return " ".join(line.split())


_LINE_MATCHERS = [
    _LineMatcher("trailing whitespace", str.rstrip, _same_lines, True),
    _LineMatcher("indentation", str.strip, _by_indent, True),
    _LineMatcher("whitespace runs", _runs, _same_lines, True),
    _LineMatcher("small differences between matching first and last lines", str.strip, _by_anchors, False),
]


class _TextLines:
    """A text's lines and their offsets, computed once per edit (the matchers and the probes all
    look at the same text), and where a word occurs, so keys are computed only where a match can be."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self._before = list(itertools.accumulate(map(len, self.lines), initial=0))
        self._holding: dict[str, list[int]] = {}

    def offset(self, line: int) -> int:
        """Where line `line` (0-based) starts in the text."""
        return self._before[line] + line

    def starts(self, first_line: str, count: int) -> list[int] | range:
        """Where a block of `count` lines whose first line is `first_line` up to whitespace may start:
        every matcher only folds whitespace, so such a line holds the first line's longest word."""
        last = len(self.lines) - count + 1
        word = max(first_line.split(), key=len, default="")
        if not word:
            return range(max(0, last))
        if word not in self._holding:
            self._holding[word] = [i for i, ln in enumerate(self.lines) if word in ln]
        return [i for i in self._holding[word] if i < last]


def _line_spans(text: _TextLines, old: str, matcher: _LineMatcher) -> list[Span]:
    """Every block of whole lines the matcher accepts, overlapping ones included."""
    lines, key = text.lines, matcher.key
    old_lines = old.split("\n")
    if len(old_lines) > 1 and old_lines[-1] == "":
        old_lines = old_lines[:-1]
    want = [key(o) for o in old_lines]
    n = len(old_lines)
    spans: list[Span] = []
    for i in text.starts(old_lines[0], n):
        if key(lines[i]) != want[0] or (matcher.every_line and [key(ln) for ln in lines[i : i + n]] != want):
            continue
        if matcher.same(lines[i : i + n], old_lines):
            end = text.offset(i + n - 1) + len(lines[i + n - 1])
            if old.endswith("\n") and i + n < len(lines):
                end += 1
            spans.append(Span(text.offset(i), end, i + 1, True))
    return spans


def _exact_spans(text: str, old: str) -> list[Span]:
    """Every place `old` occurs, overlapping ones included (`aa` occurs twice in `aaa`)."""
    spans: list[Span] = []
    pos = text.find(old)
    while pos != -1:
        spans.append(Span(pos, pos + len(old), text.count("\n", 0, pos) + 1, False))
        pos = text.find(old, pos + 1)
    return spans


def _disjoint(spans: list[Span]) -> list[Span]:
    """The leftmost spans that do not overlap: what `replace_all` replaces (as str.replace would)."""
    out: list[Span] = []
    for span in spans:
        if not out or span.start >= out[-1].end:
            out.append(span)
    return out


def _unescape(s: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), s)


def _probes(old: str, new: str) -> Iterator[Probe]:
    """The model's strings as given, then each normalisation that changes them."""
    yield Probe(old, new, "")
    if _unescape(old) != old:
        yield Probe(_unescape(old), _unescape(new), "over-escaped characters")
    stray = _STRAY_BLANK.match(old)
    if stray and old[stray.end() :].strip() and new.startswith(stray.group()):
        # only when new_string starts with the same blank lines: then they are context the file
        # does not have, and dropping them from both strings keeps what the edit means
        yield Probe(old[stray.end() :], new[stray.end() :], "a blank line at the start")


def find_spans(text: str, old: str, new: str) -> tuple[list[Span], Probe, str]:
    """All matches of the first matcher that finds any: (spans, the probe, matcher name).

    Only the strings as given, matched exactly, are taken at their bytes. A tolerance (a
    normalised probe or a looser matcher) must find as many places when Unicode forms are
    compared as it finds in the file's own forms: the model cannot tell `é` from `e` + U+0301 in
    what it read, so a tolerance that reaches one of two such places is not a match but a guess
    (it is skipped, and the chain goes on; the as-given strings under Unicode equivalence may
    still find the one place meant).
    """
    lines = _TextLines(text)
    equivalent = _EquivalentText(text)
    skipped: list[Span] = []
    for probe in _probes(old, new):
        spans = _exact_spans(text, probe.old)
        if spans and (not probe.name or equivalent.same_count(probe.old, None, spans, skipped)):
            return spans, probe, "exact"
        for matcher in _LINE_MATCHERS:
            spans = _line_spans(lines, probe.old, matcher)
            if spans and equivalent.same_count(probe.old, matcher, spans, skipped):
                return spans, probe, matcher.name
    for probe in _probes(old, new):
        found = canonical_spans(text, probe.old)
        if found:
            spans = [Span(a, b, text.count("\n", 0, a) + 1, False) for a, b in found]
            return spans, probe, _BY_EQUIVALENCE
    if skipped:  # only places a tolerance could not tell apart: the error names them
        return skipped, Probe(old, new, ""), _BY_EQUIVALENCE
    return [], Probe(old, new, ""), ""


_BY_EQUIVALENCE = "Unicode normalization (NFC/NFD)"


class _EquivalentText:
    """The text in NFC, made on first need, to count a tolerance's places up to Unicode forms."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: _TextLines | None = None

    def same_count(
        self, old: str, matcher: _LineMatcher | None, spans: list[Span], skipped: list[Span]
    ) -> bool:
        """Whether `matcher` (None: exact) finds as many places in NFC as `spans`; if not, the NFC
        places go to `skipped` (the first such only)."""
        if unicodedata.is_normalized("NFC", self.text) and unicodedata.is_normalized("NFC", old):
            return True
        if self._lines is None:
            self._lines = _TextLines(nfc(self.text))
        want = nfc(old)
        found = (
            _exact_spans(self._lines.text, want)
            if matcher is None
            else _line_spans(self._lines, want, matcher)
        )
        if len(found) <= len(spans):
            return True
        if not skipped:
            skipped.extend(found)  # NFC offsets; only their line numbers are shown
        return False


def closest_lines(text: str, old: str) -> str:
    """Where the file's text is most like `old`, numbered, and how it differs; "" when nowhere."""
    lines = text.split("\n")
    wanted = old.strip("\n").split("\n")
    found = nearest_window(lines, wanted)
    if found is None:
        return ""
    body = numbered(found.start, found.lines)
    differs = explain_difference(found, wanted, "old_string")
    return (
        f"The closest text ({int(found.score)}% similar) is at lines {found.start + 1}-"
        f"{found.start + len(found.lines)}:\n{body}" + (f"\n{differs}" if differs else "")
    )


def _check_unique(spans: list[Span], how: str, replace_all: bool, label: str) -> None:
    if len(spans) == 1:
        return
    where = ", ".join(str(s.line) for s in spans[:20])
    if how == _BY_EQUIVALENCE:
        raise EditMatchError(
            f"{label}: old_string matches {len(spans)} places (lines {where}) only when Unicode forms "
            "(NFC/NFD) are ignored; copy the text exactly from the file, with enough lines to be unique"
        )
    if not replace_all:
        raise EditMatchError(
            f"{label}: old_string matches {len(spans)} places (lines {where}); add surrounding "
            "lines to make it unique, or set replace_all to change every one"
        )


def replace(text: str, old: str, new: str, replace_all: bool, label: str) -> Replacement:
    """Work out the edit on `text` (an LF view).

    Raises:
        EditMatchError: no match (with the closest lines and how they differ), several without
            replace_all, or a replacement that would leave the text as it is.
    """
    if old == new:
        raise EditMatchError(f"{label}: old_string and new_string are the same; nothing to change")
    if not old:
        raise EditMatchError(f"{label}: old_string is empty; use write to create a file")
    spans, probe, how = find_spans(text, old, new)
    if not spans:
        hint = closest_lines(text, old)
        raise EditMatchError(
            f"{label}: old_string was not found (also tried ignoring whitespace, indentation, "
            "escaping and Unicode forms)."
            + (
                f"\n{hint}\nCopy the text exactly from the file (without line numbers)."
                if hint
                else " Read the file again and copy the text exactly."
            )
        )
    _check_unique(spans, how, replace_all, label)
    replaced: list[tuple[int, int, str]] = []
    for span in _disjoint(spans):
        block = text[span.start : span.end]
        if how == _BY_EQUIVALENCE:
            piece = in_form_of(probe.new, block)
        else:
            piece = reindent(probe.new, probe.old, block) if span.reindent else probe.new
        replaced.append((span.start, span.end, piece))
    out: list[str] = []
    pos = 0
    for start, end, piece in replaced:
        out.extend((text[pos:start], piece))
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    if result == text:
        raise EditMatchError(
            f"{label}: old_string matched ({how}) but the replacement leaves the file "
            "exactly as it is; nothing was changed"
        )
    tolerated = [part for part in (probe.name, "" if how == "exact" else how) if part]
    return Replacement(result, replaced, " and ".join(tolerated) or "exact")
